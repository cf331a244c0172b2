"""The multi-power-law curves (Luo et al. 2025, repo thu-yao-01-luo/MultiPowerLaw): files and parser.

27 training-loss curves: model sizes 25M, 100M, 400M x 9 learning-rate schedules, one CSV each
(``step, lr, loss`` at the logged steps, CRLF line ends). The schedule of every step, which the laws
need, is defined by the file name in the repo's ``src/data_loader.py`` + ``src/lr_schedules.py``;
:func:`schedule_for` rebuilds it with :class:`scaling.schedules.Schedule` (the CSVs' ``lr`` column
equals it to 2e-15, which the parser checks). As the repo does, the points at step 24,000 of the
curves that end there are dropped (``table.excluded``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DatasetError, format_message
from ..schedules import Schedule
from .parsers import Fetch, Parsed

__all__ = ["SIZES", "TRAIN", "TEST", "SCHEDULES", "schedule_for", "parse_multipowerlaw", "FILES_SHA256",
           "PUBLISHED_PARAMS"]

SIZES: dict[str, float] = {"25M": 25e6, "100M": 100e6, "400M": 400e6}
#: the authors' split (src/config.py)
TRAIN = ("cosine_24000", "constant_24000", "wsdcon_9")
TEST = ("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000", "wsdcon_3", "wsdcon_18")
SCHEDULES = TRAIN + TEST
WARMUP, PEAK, FINAL = 2160, 3e-4, 3e-5

#: src/config.py PARAMS: [L0, A, alpha, B, C, beta, gamma] per size
PUBLISHED_PARAMS: dict[str, tuple[float, ...]] = {
    "25M": (3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257),
    "100M": (2.6514477, 0.60115152, 0.45295811, 437.9464276, 2.13245612, 0.59785199, 0.65523644),
    "400M": (2.37474466, 0.65421216, 0.42878731, 523.42464371, 2.02462735, 0.59350493, 0.63472457),
}

FILES_SHA256: dict[str, str] = {
    "LICENSE": "a864b23f4c3c706446637a6b811719bb4a68b79ac346cd29081b5def71eaf653",
    "README.md": "1b34c1b236a7b74ce0b15e7eaff423929e29bc9f89e1568f40607eb14642f344",
    "logs/100.log": "df4da6db467eae0616cb08f84da7c35c7c4cdc6e4d8d21c19cd71aaa7484155a",
    "logs/25.log": "cb3d442c9f7020c356d78167e3684cf005c2106bbe48a80df49f433fea0f4e23",
    "logs/400.log": "85d39cb8d20a54cc7df31119578b5933901826185cd06751ff827592caf15ee6",
    "loss_curve_repo/csv_100/constant_24000.csv": "034a75e2415373a9be1097e9d406f98524344f4718d200d3a188dcbd5115103b",
    "loss_curve_repo/csv_100/constant_72000.csv": "52b5752009e1e4c396f15016e98897238fccb3816f58576ea944f03fe529dbc3",
    "loss_curve_repo/csv_100/cosine_24000.csv": "dd544dc61a11fa138c98ac0b673d5512287062d2d2d2e9c2867976abc8c46e69",
    "loss_curve_repo/csv_100/cosine_72000.csv": "2e637203b48b3e3a84063f49035cde2f6a40c69ecd15d95b6551774b9a279f44",
    "loss_curve_repo/csv_100/wsd_20000_24000.csv": "e66df98c85dba705ebc85512c6a09a8ebec5675878a20d4d783c0bf80d031002",
    "loss_curve_repo/csv_100/wsdcon_18.csv": "33cfea673dc0efde9e4fd74cc47d8daabdebfdc6d5a2659835bd780347f6e651",
    "loss_curve_repo/csv_100/wsdcon_3.csv": "a1cbb8c730ae0628d69bb1d7aefadbad5cda5f6a92272f85203cd33d7b8f4912",
    "loss_curve_repo/csv_100/wsdcon_9.csv": "510256497a0ea9d4270919fb37c56140e1b4d07e50b96b46334891ba316f144e",
    "loss_curve_repo/csv_100/wsdld_20000_24000.csv": "0ef6b02e260ff5efa51a5885655ead8cf126a7e9c4ea3034d403e11852c06fe2",
    "loss_curve_repo/csv_25/constant_24000.csv": "5a7c0b440751e258e7199eeefe9f0ae58520a2f2d64c5f81524d8d375f75f0ce",
    "loss_curve_repo/csv_25/constant_72000.csv": "99ee51a9be7b7fb71511d0af28edd6bc6221350d2ad26a66c615467cb5c83247",
    "loss_curve_repo/csv_25/cosine_24000.csv": "554e35f9efbe28a614c9ae1121b3bf55490df6b72a5898957f68a52770038e3a",
    "loss_curve_repo/csv_25/cosine_72000.csv": "af3b25a485966a0f7fc34824774cf8ec85af14848a6dc7b64d6a8d3d044befa5",
    "loss_curve_repo/csv_25/wsd_20000_24000.csv": "8649b7de4b4b31db5c35f4ff0458af9472a50168177de6372c3ceb37ace9fc62",
    "loss_curve_repo/csv_25/wsdcon_18.csv": "9b9bd40f519d20ecbf540d4c9451f6a01b7b379b1d335407ba4651025cc5926f",
    "loss_curve_repo/csv_25/wsdcon_3.csv": "3d37fcf82c237e5c1ba2ee34c4b9e606ecba781536d4fea9a7dde5463207fc3d",
    "loss_curve_repo/csv_25/wsdcon_9.csv": "b7579f38b5e175d9e9dc9b9598b409efdf2cba0a68819857ba28649c242c2bd8",
    "loss_curve_repo/csv_25/wsdld_20000_24000.csv": "8e3a9ae33ed586e5040a114fad215f4f245c6a2ff7d96f61cba02ccd8b74b3e7",
    "loss_curve_repo/csv_400/constant_24000.csv": "5d91536675592acdc40ea56f71ca24ee9026243e51a0a791ac25b631381c45ee",
    "loss_curve_repo/csv_400/constant_72000.csv": "a453ef82f549470cc8250723917668801436dd835fd17bbf71e1fd77d00a3b6c",
    "loss_curve_repo/csv_400/cosine_24000.csv": "aa18c9dbad66610d2037249bbcbf08fdce0983aa486b876ba95c2e3fb6fc0dce",
    "loss_curve_repo/csv_400/cosine_72000.csv": "347acbdc80042cb7cfe0dcb28580a2780718ccbad23443d4de76821f0a1ab41e",
    "loss_curve_repo/csv_400/wsd_20000_24000.csv": "8a56dbd8f6b553b42ca8b3f4be9822cf5b7458a6c1b7ae0ddc6ac57b2893dea7",
    "loss_curve_repo/csv_400/wsdcon_18.csv": "998aaf3fd14de43fe754c7250885d7f72e20e7a210b1ea205a8af37ea8b22951",
    "loss_curve_repo/csv_400/wsdcon_3.csv": "e1a896755ea1e1a6a4648a503be6a19eb62fc7ef12fbab3440a66f7a94197ac6",
    "loss_curve_repo/csv_400/wsdcon_9.csv": "497aa4a60df8f520e11e212a990dcf70e8bfd89e814f295dc5476af630aac768",
    "loss_curve_repo/csv_400/wsdld_20000_24000.csv": "7c5d5141d917955491732606e8817e7fdbd4bc2036e508e1610ab8bd252267dc",
    "src/config.py": "d8ae4f79de638e0c481e3350a753ccad5081ce82bf803593761aceb1e211dec6",
    "src/data_loader.py": "5bf29f90cfad40ae523327673113f63367c51f809ceab24fba461ea05bafac08",
    "src/evaluation.py": "f43b41cc862d7cca4b684ea675466c4bd0f300c8fb40690d85cef42870f375af",
    "src/fitting.py": "d5fa6f222326603210b576bc15a1f98d27722293195a6415eb5c9b80a51c3d52",
    "src/lr_schedules.py": "f9197a00e389502d3b81296211db5f58a98371063e998e6b3f2f8bbeb1b4c21e",
    "src/models.py": "3e03899ddf3b8e2e56a8668acc3cc52204f2f29bd56ff58a55e1e57ea8e33118",
}


def _bad_file(path: str, what: str, got: object) -> DatasetError:
    return DatasetError(format_message(f"File '{path}'", "", what, got,
                                       "The registry pins this exact file (by checksum), so this is a bug in "
                                       "scaling's parser: please report it."))


def csv_path(size: str, schedule: str) -> str:
    return f"loss_curve_repo/csv_{size.rstrip('M')}/{schedule}.csv"


def schedule_for(name: str) -> Schedule:
    """The schedule of the repo's curve ``name`` (``src/data_loader.py``): warmup 2160 steps to 3e-4."""
    kind, _, arg = name.partition("_")
    if kind == "cosine":
        return Schedule.cosine(int(arg), PEAK, FINAL, warmup=WARMUP)
    if kind == "constant":
        return Schedule.constant(int(arg), PEAK, warmup=WARMUP)
    if kind == "wsdcon":  # two stages: 3e-4 until 8,000 then X * 1e-5, 16,000 steps
        return Schedule.two_stage(16_000, PEAK, int(arg) * 1e-5, 8_000, warmup=WARMUP)
    if name == "wsdld_20000_24000":
        return Schedule.wsd(24_000, PEAK, 20_000, FINAL, warmup=WARMUP, shape="linear")
    if name == "wsd_20000_24000":
        return Schedule.wsd(24_000, PEAK, 20_000, FINAL, warmup=WARMUP, shape="exponential")
    raise KeyError(name)


def _spec_string(s: Schedule) -> str:
    return s.kind + ":" + ",".join(f"{k}={v}" for k, v in s.spec.items())


def parse_multipowerlaw(fetch: Fetch, options: dict[str, Any]) -> Parsed:
    """One row per logged point of the 27 curves.

    Columns: ``run`` (``"25M/cosine_24000"``), ``group`` (size), ``schedule`` (file name), ``split``
    (the authors' ``train``/``test``), ``schedule_spec`` (the :class:`Schedule` spec string),
    ``n_params``, ``step``, ``n_tokens`` (= ``step``: the repo does not give tokens per step, so
    "tokens" here count optimizer steps), ``lr`` and ``loss`` (training loss, nats/token).
    """
    frames = []
    for size, n in SIZES.items():
        for name in SCHEDULES:
            path = csv_path(size, name)
            raw = pd.read_csv(fetch(path))
            if list(raw.columns) != ["step", "lr", "loss"]:
                raise _bad_file(path, "columns ['step', 'lr', 'loss']", list(raw.columns))
            sch = schedule_for(name)
            step = raw["step"].to_numpy(np.int64)
            if step.max() >= sch.total + 1 or np.any(np.abs(sch.lr[np.minimum(step, sch.total - 1)]
                                                            - raw["lr"].to_numpy(float))[step < sch.total] > 1e-12):
                raise _bad_file(path, "an lr column equal to the schedule of src/data_loader.py", "a different lr")
            frames.append(pd.DataFrame({
                "run": f"{size}/{name}", "group": size, "schedule": name,
                "split": "train" if name in TRAIN else "test", "schedule_spec": _spec_string(sch),
                "n_params": n, "step": step, "n_tokens": step.astype(float), "lr": raw["lr"].to_numpy(float),
                "loss": raw["loss"].to_numpy(float)}))
    frame = pd.concat(frames, ignore_index=True)
    keep = ~((frame["step"] >= 24_000) & frame["schedule"].isin([s for s in SCHEDULES if s.endswith("24000")]))
    return Parsed(frame, None, {
        "loss": "training loss along the run (nats/token), logged every ~128 steps from step 2160",
        "n_tokens": "= optimizer steps (the repository does not state the tokens per step)",
        "schedule": "per-step learning rates rebuilt from the file name (src/data_loader.py); "
                    "scaling.datasets.multipower.schedule_for(name) returns the Schedule",
        "split": "the authors' split (src/config.py): train = cosine_24000, constant_24000, wsdcon_9",
    }, filters=((keep.to_numpy(), "step 24,000 of a curve ending there (dropped by the repo's data_loader.py)"),))
