"""Dataset registry: pinned upstream files (URL at a commit, sha256), provenance and parsers.

Resolution of a file ``<path>`` of dataset ``<name>`` (see :func:`fetch_file`):

1. the offline mirror named by the environment variable ``SCALING_DATA_DIR``, laid out as
   ``$SCALING_DATA_DIR/<name>/<path>`` (byte-for-byte copies of the upstream repository);
2. the user cache ``$SCALING_CACHE_DIR`` (default: ``platformdirs.user_cache_dir("scaling")`` if
   platformdirs is installed, else ``~/.cache/scaling``), same layout;
3. if ``download=True``: a download of ``https://raw.githubusercontent.com/<repo>/<commit>/<path>``
   into a temporary file of the cache folder, verified, then moved into place with
   :func:`os.replace` (atomic: the cache never holds a partial or unverified file).

Every file — mirrored, cached or downloaded — is checked against its registered sha256
(results are memoised per (path, size, mtime) within the process). A mismatch raises
:class:`~scaling.errors.DatasetError` whose message says "sha256" and gives the file, the expected
and the actual digest; a bad download or cached copy is deleted (a mirror is never modified).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DatasetError, format_message
from . import parsers as P

if TYPE_CHECKING:
    from scaling.data import RunTable

logger = logging.getLogger("scaling")

__all__ = [
    "RemoteFile",
    "DatasetSpec",
    "REGISTRY",
    "get_dataset",
    "list_datasets",
    "load_dataset",
    "fetch_file",
    "download_dataset",
    "data_dir",
    "cache_dir",
    "clear_verification_cache",
]

RAW_BASE_URL = "https://raw.githubusercontent.com"
_CHUNK = 1 << 20
_DOWNLOAD_TIMEOUT = 60.0

# Injectable for tests (monkeypatch ``registry._urlopen``): called as ``_urlopen(url, timeout=...)``
# and must return a context manager with a binary ``read(n)``.
_urlopen: Callable[..., Any] = urllib.request.urlopen


@dataclass(frozen=True)
class RemoteFile:
    """One upstream file: its path in the repository and its sha256."""

    path: str
    sha256: str


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset: where its files come from, what they are, how to parse them.

    Attributes
    ----------
    name
        Registry key, e.g. ``"epoch_chinchilla"``.
    repo, commit
        GitHub ``owner/name`` and the pinned commit the files are taken from.
    files
        Upstream files (path in repo + sha256).
    license
        Licence of the upstream files (and redistribution notes).
    paper, arxiv
        Title (with authors and year) and arXiv id of the paper the data comes from.
    description
        What one row is.
    rows
        Number of rows of the default table.
    units
        Units of the columns.
    n_params_convention
        ``"total"`` (embeddings counted), ``"non-embedding"``, or ``None`` when it varies by row
        (passed to ``read_table``).
    n_params_note
        How the parameter counts were made, in words.
    backs
        Published values the data backs (what a fit on it should reproduce).
    parser
        ``parser(fetch, spec, options) -> Parsed | DataFrame``: reads the files (through ``fetch``,
        which returns verified local copies) into the canonical frame; see :mod:`.parsers`.
    options
        Accepted ``load_dataset`` options: name -> (default, description).
    """

    name: str
    repo: str
    commit: str
    files: tuple[RemoteFile, ...]
    license: str
    paper: str
    arxiv: str
    description: str
    rows: int
    units: str
    n_params_convention: str | None
    n_params_note: str
    backs: str
    parser: Callable[[P.Fetch, DatasetSpec, dict[str, Any]], P.Parsed | pd.DataFrame]
    options: dict[str, tuple[Any, str]] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """``repo@commit``."""
        return f"{self.repo}@{self.commit}"

    def url(self, path: str) -> str:
        """Raw download URL of ``path`` at the pinned commit."""
        return f"{RAW_BASE_URL}/{self.repo}/{self.commit}/{urllib.parse.quote(path, safe='/=')}"

    def file(self, path: str) -> RemoteFile:
        """The registered :class:`RemoteFile` for ``path``."""
        for f in self.files:
            if f.path == path:
                return f
        raise DatasetError(format_message(f"File {path!r}", f"of dataset {self.name!r}",
                                          "one of its registered files", repr(path),
                                          f"Registered: {', '.join(f.path for f in self.files[:6])}"
                                          f"{', ...' if len(self.files) > 6 else ''}."))


# sha256 of the 104 model files exp_data/models/<file> of mlfoundations/scaling @ a003c49
# (computed from the byte-for-byte mirror).
_GADRE_MODELS_SHA256 = """
8db3df3858bb7be2545aca24f1cc49f8f6b351b7eefe6b494987c391f51c1f33 c4_original-d=1024_l=24_h=8-0.25.json
0421d2fcf2bc99338fe215712a4cccee382ba3506fab5fbcded640a40c0da1b6 c4_original-d=1024_l=24_h=8-0.5.json
bf6b68b49d3d1dd9779650fbf4a7a47051d2696bdb1c5d8b4c4ad6d66ee216f4 c4_original-d=1024_l=24_h=8-1.0.json
6881e8bcfd2439f52f0ffa1a20bfc3244b6b2da16dc9576e689d720db1c3864d c4_original-d=1024_l=24_h=8-16.0.json
1c74db470334756fb544fa7ef1155bf2b6bc70bdf0eb2fd458c4f8a0e3d5787e c4_original-d=1024_l=24_h=8-2.0.json
f6a0b2ad7dace1f4813cb4f6b809ade12448ea4d0e0a045ca9b1377ef6766c42 c4_original-d=1024_l=24_h=8-4.0.json
5f93439f4b107bc1cc326a289250b8c7edec5509398d2bf0439a6d3c51b241ab c4_original-d=1024_l=24_h=8-8.0.json
8186f8a42f1950d8dfd84b77574db2404c37e39aab9a0bdc92b63656e798a790 c4_original-d=512_l=8_h=4-0.25.json
a7ea1c602e4f56051325b8605298fc1e3399859e1a6ad6abee26f02d8035a109 c4_original-d=512_l=8_h=4-0.5.json
e5f2c7b3bdda02424cd591435d300e26560292d24ad15b50f6afecd9a15b0fd1 c4_original-d=512_l=8_h=4-1.0.json
6d4fe9c69f0033a625af5c27d79f0c58d1e7b5e668d8e929304f445d4bb2281c c4_original-d=512_l=8_h=4-16.0.json
27c988bc4efbc26ed35a7746a03e67399503b5deb891fd4b4be4ca9e41429a22 c4_original-d=512_l=8_h=4-2.0.json
b693b1842d4ae5dea422e6782d54b0e1157b4f3cd1ea4b989318bd3f4272a1b3 c4_original-d=512_l=8_h=4-32.0.json
a8720039978ee439ce505994bb174de3ecc38991c6b21f4765fa2912f4a50807 c4_original-d=512_l=8_h=4-4.0.json
66561fa1828bf8c89077822dfba23561b578375c24b1e85a68d49cd28d05faba c4_original-d=512_l=8_h=4-8.0.json
4ac340852165c2164f1d5c01a7cbe59512855cda416ccf3a1eca9d3acb1f9d86 c4_original-d=576_l=24_h=8-0.25.json
ffb115b8936e4b79c1a5c9e85d712909c372c5685cb19c788e31df86c93bd358 c4_original-d=576_l=24_h=8-0.5.json
4323af0fd98e6680ad7fb54ba5da8295711008b97d672ea8b85ca832b23700b5 c4_original-d=576_l=24_h=8-1.0.json
f3a79b2c2287ae5aa7dc6d9993880d19a90e9b64bcecd5638bb825b90b7144d9 c4_original-d=576_l=24_h=8-16.0.json
fa11358c24882051de6b6426278b0edf8e78d41e9a52c0639fea9629e3e0ff75 c4_original-d=576_l=24_h=8-2.0.json
0f474e4baff0b0d6724f5480c95b85a8d27a4bb62295411c8a6d0786eef41874 c4_original-d=576_l=24_h=8-32.0.json
538f84ae4f1ec029f6a7a0dd3f5575ca521b6b187d05937158c804866dd72116 c4_original-d=576_l=24_h=8-4.0.json
ccb59c6d893cc70667988eacda1f780c9c593124ce5ea88a5e493236a4488634 c4_original-d=576_l=24_h=8-8.0.json
b7ff0953d4108fe9db4d2d9fb6fd93b5950c256a7ab3c71829a7f3362f67c315 c4_original-d=96_l=8_h=4-0.25.json
0c4ac782e8a06038420871bec0b8911aa23a938cf76d0a080a2a8928d2361dd2 c4_original-d=96_l=8_h=4-0.5.json
8a842ca6fe95a77679dc877bade9113a220b9a4756e4228ab323a149ed340233 c4_original-d=96_l=8_h=4-1.0.json
f2c8a87897fb0d4ddce76e5cb8ba984161a55f692201f4b1119437d2c7025342 c4_original-d=96_l=8_h=4-16.0.json
01fb270bcf2a6fc89e81a14e14dd2ede0187c00f247fa43d32edc39719648908 c4_original-d=96_l=8_h=4-2.0.json
6040c014958e7d0f4fcae0c8383129da77b498a1423c960bb6102a76ff091267 c4_original-d=96_l=8_h=4-32.0.json
35ef4a6c6afdac9e9f827091793d7cc60fe07c783177da6c9a819d7061f71ca8 c4_original-d=96_l=8_h=4-4.0.json
72133908ef3a629549dc9f361c63c0e16aec33637f88b63dfc63a5d6472460a6 c4_original-d=96_l=8_h=4-8.0.json
dc5aff812d1bcdf05d89b4300a1b572a562a28734e2a2c46ccfeaee36f8cc61e c4_original-open_lm_1b-1.0.json
964579a5f56d9fcf46c64cabf82b00737c097779225829f4549bffb49ab813c0 c4_original-open_lm_1b-4.0.json
839abd366bde620f9970f6d2331982ad5c5c05703470fd28a8e153c2f695ea6f c4_original-open_lm_7b-1.0.json
21894859e415cb4cf9951b0f9fbdfacc0e2f37f3a26d16d09e57b0e16a1879cc rpj-d=1024_l=24_h=8-0.25.json
3ac54a447f3b32304d38006c3555d6976e8dec80cd897a3e09f4d02278152a41 rpj-d=1024_l=24_h=8-0.5.json
36fd4755d70b7bc892dab97bbd90cd908b13aab15c1e1a78d8d6b07bb8f8e840 rpj-d=1024_l=24_h=8-1.0.json
0dbe4abe8580fa3940188439143f5068b39507598e1ece408c4b7a07bfcaeb42 rpj-d=1024_l=24_h=8-16.0.json
946628893896424dcbe8659af3e5b6c77f6053bdf3e2370aa2ecda711ac9d0ea rpj-d=1024_l=24_h=8-2.0.json
b22b0db3894a4d40ba9903565b7690e89c1d47548519b3513dc98c9e23cc9967 rpj-d=1024_l=24_h=8-32.0.json
9e41986705a90da4d79f0a5b9deaea8395ab747f85c246315b6144755635b2da rpj-d=1024_l=24_h=8-4.0.json
ae1ddf71ac73c3e37c83a041c3014e6c08c6fbb3213450645ebac8e378552e65 rpj-d=1024_l=24_h=8-8.0.json
5c4525a3b043f9fc90b65227ba6af49e4e3c3c79739d5cc2debfd98ecaf65a76 rpj-d=512_l=8_h=4-0.25.json
5ca9a2e94eb4d4a10e21ef10eb2f53898f67d9f1caac6857858b6764d2a86069 rpj-d=512_l=8_h=4-0.5.json
ce2d8bb874a2bea92eb307fe360a6f3ccda6de51ef14659a0ea6346408579481 rpj-d=512_l=8_h=4-1.0.json
0d344ab3458b4cdf64c5159100a1fe3b57ef607a25b756af8c59802337141526 rpj-d=512_l=8_h=4-16.0.json
0200c73436d18c5aafa989a90467e6b4b3e08da296ed1cceb0b697ad2baa9a89 rpj-d=512_l=8_h=4-2.0.json
69cc81245773e3f0510b853b145efc9e1e97906dedee47f51e97c0cb6fbe16e3 rpj-d=512_l=8_h=4-32.0.json
c87f448cef64c2e91d8ce9d06a258495102605b59463f2adf42849d935295d40 rpj-d=512_l=8_h=4-4.0.json
a3f7aafff1f166618a34c9d787ec60082d71d64ea54b9891eec6d79501328b39 rpj-d=512_l=8_h=4-8.0.json
6e5978fb3537e77178b1b262ebf64aa921466aa898f1469f24a2b83e0a7d03a6 rpj-d=576_l=24_h=8-0.25.json
d64931f5e92e96c54797e9302085ad953a8e1c0e6686a3763c2b941ccd06cc3e rpj-d=576_l=24_h=8-0.5.json
ae44bcbd76ff41b9b25670577efd7f9548009bab45353f327d93e1b9ff6812b5 rpj-d=576_l=24_h=8-1.0.json
4bb55ee15bd48c7af5ec8e3722a4448a867794f2dc8ff0bd82d195fe85b6dd42 rpj-d=576_l=24_h=8-16.0.json
cfd141d95172d89188dc27c85f8156af45d600da416cec5792e7de1aed867bbe rpj-d=576_l=24_h=8-2.0.json
c6d0c38335579210036084d996b8c374e73a9eb79c7369f431d6f0f5bf48e1ef rpj-d=576_l=24_h=8-32.0.json
be8139673c65951cc0543472d4be364f3fc77bd33c556649729fb6d9b8c02e84 rpj-d=576_l=24_h=8-4.0.json
848910ea02ec47caa92b60b6e074cb224f7ff718780c4e3c4ab4a3349f9c6a29 rpj-d=576_l=24_h=8-8.0.json
162e01985c15985338822c3a710a888f76060f695324c4c224eabf5ce6cf716e rpj-d=96_l=8_h=4-0.25.json
0e366fe8e187d78959f08d1d77511a279b9de674c64bcc2678d8f2283992b70a rpj-d=96_l=8_h=4-0.5.json
26a57687eeca30c6282a8b9e1d51b6e0e6558011c08a8b84e695aa33a74567ab rpj-d=96_l=8_h=4-1.0.json
8b10ab3caf7bafef95b972fd3551a26807ac9d7824ab73eb5dcb8fdc60030a2b rpj-d=96_l=8_h=4-16.0.json
addc9c00c6a2414d40433066115a28bc1572f784aeb2dbe372cefecfa4509fc7 rpj-d=96_l=8_h=4-2.0.json
4dce7af0a05fdf481fb73704e7471c98193d9e4d8a1a3f8c7f574df026a61b93 rpj-d=96_l=8_h=4-32.0.json
b51ed691e9f60ef1d1c427c0e1aa6ce0729ee73955fa0672403605aae2776a79 rpj-d=96_l=8_h=4-4.0.json
be735e38d3e306b307e33c714a226208f42f32209b976583a13bd16e145fd53e rpj-d=96_l=8_h=4-8.0.json
c3703ae56c0f00efa08ff2989bd1559ac7eae9cd3c6f5f2e724c756a07c5b7f6 rpj-open_lm_1b-1.0.json
fe055b9c29dd3ad5d491f05a594a846c8c4692e1eb82cec81aacb371701168b4 rpj-open_lm_1b-32.0.json
62f938a0be52065726bcd6af80446626204a2f3d1101f3ccc12271a8ae1a8a7c rpj-open_lm_7b-1.0.json
153652721ca3b709cea4d39b487d4d54547ab0b46ccc94810df37a29eab37d01 rw_original-d=1024_l=24_h=8-0.25.json
6750620d290d6e9a1a489d4b4ca9152a7098fc6b8558c9d2c6cabb83824321bc rw_original-d=1024_l=24_h=8-0.5.json
8534fdbc3f8b2743b312df0134a775e4cddce8254237c521828c464297ea235a rw_original-d=1024_l=24_h=8-1.0.json
fc7fd3d3594da7b4fa5af5b39820a9d59573e96e471a80c4b47a496e82a7bbb4 rw_original-d=1024_l=24_h=8-16.0.json
dfed958cfeca8b7d304f466b25760fd17bd4f9958c509d44c5ef4f8a58db2772 rw_original-d=1024_l=24_h=8-2.0.json
36604d27e31e6ecef9ff0a64c89c3cd3ff9e58b6281fc4601600a4120c59b57c rw_original-d=1024_l=24_h=8-32.0.json
07fc37b93e05fea28494c09ec6adaa31a1e7185e825d2e095636f5b8ce283cd9 rw_original-d=1024_l=24_h=8-4.0.json
d3735c1c18ff7151368466f06734a4389169ccfd6948e8db6937341ea0692635 rw_original-d=1024_l=24_h=8-8.0.json
6c407512ddc0f471d7ceeafa0c2995c1acada2d709fdf151d8f24a349626dae2 rw_original-d=512_l=8_h=4-0.25.json
7d141a2f971ff444c11e4cfafa043cddf070da554edbcd55cc601524e42201e5 rw_original-d=512_l=8_h=4-0.5.json
d62f4e153d366d00d49801e3c0166f615c44ad384d30c7814c5793a844eeccbf rw_original-d=512_l=8_h=4-1.0.json
3fb112bc15e49dd55aa5ac107191e6def46247e0a830f4d5cd0e272963842528 rw_original-d=512_l=8_h=4-16.0.json
a15e75c23288d7b0e2317ea0fc4f8340db51776b27db4b2037ed677c1172ea1d rw_original-d=512_l=8_h=4-2.0.json
3faf6a8b9bfd50b08374246165ccdd5ac9a6f8742100a52fb87b51e730f55ac4 rw_original-d=512_l=8_h=4-32.0.json
3044affb6475bca422acfe93711d722791d3abd82f7b76ce7075806505ee6248 rw_original-d=512_l=8_h=4-4.0.json
e3c2c05530cbae58f74d7725264ece10490faedbd1cefa3c5360a4c438172967 rw_original-d=512_l=8_h=4-8.0.json
d65d1035dd8a1fe2a486bf375de9997a109ef04d546ed6227c949af3a8d3446c rw_original-d=576_l=24_h=8-0.25.json
c4b1362400eed92675682ff67ae570a35521deb388e67839210ace8e15ec1dfd rw_original-d=576_l=24_h=8-0.5.json
9cac2bf9514a21354d783c000bc6f6d564e36efe18feb7c266fd15de22f4e18f rw_original-d=576_l=24_h=8-1.0.json
bddac40e644a41d30a059ea19a880960054f542b4cb256a816bf781cc608e7ea rw_original-d=576_l=24_h=8-16.0.json
24ae295a6dc05bb1620d40260b0b08162b5e5cea838bab5fb9e1039ebd22591b rw_original-d=576_l=24_h=8-2.0.json
353c0f23aaf0a5329ff30ac2286ef8b829d4d465a21acaf3e4007287352f2f79 rw_original-d=576_l=24_h=8-32.0.json
a3b60a49a0f75f2748fef0b376f08c38c845b581e9f55427fbf23ce4f0754190 rw_original-d=576_l=24_h=8-4.0.json
16bbbbe9c3cdf57eb24e0b679881732963671ec938c1ef15a118b614ddaca075 rw_original-d=576_l=24_h=8-8.0.json
a5db91387dd7ed408f359e7903d634e984725c8a791c4ada26e414730a9769d5 rw_original-d=96_l=8_h=4-0.25.json
c3865f296db26be263848e68254c558781ce986abf9c8f40e135547e50208e74 rw_original-d=96_l=8_h=4-0.5.json
7597702b088245e90defc057894fcde894fade0be2d6db8a5c4c35ceb920dc57 rw_original-d=96_l=8_h=4-1.0.json
48e8d39142af291e8488b4b304ff4fa9c4e8bd7611046640ed62fdbb611b9984 rw_original-d=96_l=8_h=4-16.0.json
707d9c3a2ecdaf5dbaad07bd60438e020313e9fe6321885b882aa513bd147f41 rw_original-d=96_l=8_h=4-2.0.json
8f1661664e1cfca3ae8c43853543a7bd1c48b01d45f0ce3600dd79e9e5f215c6 rw_original-d=96_l=8_h=4-32.0.json
dfcb35a12003cdce8cc236a193f08e56f76f294d7fd2a499ed579f89b681013a rw_original-d=96_l=8_h=4-4.0.json
5c9f1bd726e5c674089260e582c9dc26d3f7523635d551f5d9ac73b89dca8a96 rw_original-d=96_l=8_h=4-8.0.json
e927bcc8408d7a0c87a59137a37957ab3a1da48936b75157b40857356b2e7dda rw_original-open_lm_1b-1.0.json
5b3b7722bce23ffb8f76d6229f1b4c891e5c590d354a637171e68ac4e667c49d rw_original-open_lm_1b-16.0.json
562aec0ce72d78826e51401e229c79a06185ad35540f96cb420967fce41dc3c5 rw_original-open_lm_7b-1.0.json
"""


# sha256 of the 104 downstream-evaluation files exp_data/evals/<file> of mlfoundations/scaling @ a003c49
# (computed from the byte-for-byte mirror): the in-context accuracies of each model on 46 tasks.
_GADRE_EVALS_SHA256 = """
82d76b589a41a716a275c272285cb933c692d83ba4f79dd321d07b159f412bb8 evaluation_c4_original-d=1024_l=24_h=8-0.25_heavy.json
82de50bfb36466437ad954d1e2f57ce350ec4db211316bd24b850bfe0e6a9db7 evaluation_c4_original-d=1024_l=24_h=8-0.5_heavy.json
97894c818c678fb3d71b759ab8d4539d939735b38c96c2958d077b30db38a9b9 evaluation_c4_original-d=1024_l=24_h=8-1.0_heavy.json
19b415d6f05ef852b1713337a3d849a7de47d026e04393e5f05c6723013aa52d evaluation_c4_original-d=1024_l=24_h=8-16.0_heavy.json
4ba52562ba732f18b55a6ebc56d6edacb6b56789e0965ace1d6059b394ee99de evaluation_c4_original-d=1024_l=24_h=8-2.0_heavy.json
dc03cdca25516add5735045a64db1edb6aa4245c2f7b72d53a356ac91f862afc evaluation_c4_original-d=1024_l=24_h=8-4.0_heavy.json
2bd6869a79ed42b1e3e7c8b90b263c34b12cc2b5b0dc4e20cfdf565d9d8facba evaluation_c4_original-d=1024_l=24_h=8-8.0_heavy.json
698053164289e3c2e775dc0db8e913df9514b91fa05723a1851783053e5a7983 evaluation_c4_original-d=512_l=8_h=4-0.25_heavy.json
77893b6338861d8904fe4e9369637b5293775e8d97fa1e9fac05011ff6fd103c evaluation_c4_original-d=512_l=8_h=4-0.5_heavy.json
a0e372b660a0b1a9fa358f04b889d522ff160f8580cf77dd96e1b168e4760dea evaluation_c4_original-d=512_l=8_h=4-1.0_heavy.json
10834f7157f78b8c9e8f8f0c5159a84ff89ca741f146683c16dd459a27bca7a1 evaluation_c4_original-d=512_l=8_h=4-16.0_heavy.json
f1ea2f5bea7ab7a376932758b76f0e1be0da055cf4e7a59dff60122cf6eb212d evaluation_c4_original-d=512_l=8_h=4-2.0_heavy.json
4b6d3de7cf7155c8cc730feb78cf476b1a895e622daf78c85f2523148a2b3454 evaluation_c4_original-d=512_l=8_h=4-32.0_heavy.json
64082ee774687d5dcfc52716e70d503894b59cd93fc496cce7b81bc9342fb745 evaluation_c4_original-d=512_l=8_h=4-4.0_heavy.json
71397d81eb1057e19072a145ecaebfade4bd5f071c012a61d810600d98e9bcf4 evaluation_c4_original-d=512_l=8_h=4-8.0_heavy.json
65af14c5d9bc3010359bd8f05196634cd4c37b3d337f3ff5565faa50d85ebdd9 evaluation_c4_original-d=576_l=24_h=8-0.25_heavy.json
7018005e78310197d94b9131206f30bf1741712000d2f3c5ae577864b7e0ea30 evaluation_c4_original-d=576_l=24_h=8-0.5_heavy.json
06ae03cea1857771253deed34a6180e800da0b7fb086177b57a86852c50cd4c9 evaluation_c4_original-d=576_l=24_h=8-1.0_heavy.json
8086d1d5c842b1d5dbf4e692bc99bcfb9432d98182d6b73a79c54d9a1fe957e2 evaluation_c4_original-d=576_l=24_h=8-16.0_heavy.json
8243a20d5330b748cc28b94b28346995bf3675492fd1bfc0014b782fe272cd46 evaluation_c4_original-d=576_l=24_h=8-2.0_heavy.json
3dd4c9b443dcd6153e688988d9bb01f6bdc41486166e1be6ec73101a03d1db4d evaluation_c4_original-d=576_l=24_h=8-32.0_heavy.json
0b49254ae617f3758a1d32e7069ca3a0dd526a83aced3f391c8cbd46a555c0b3 evaluation_c4_original-d=576_l=24_h=8-4.0_heavy.json
8201280d1b9ba503e333b4b0a7055fa564bc35a53f56f2eab065282896e23059 evaluation_c4_original-d=576_l=24_h=8-8.0_heavy.json
31fa04ddedad803f3a219bfce0d78049f5657021fcca51c1814c86528572299b evaluation_c4_original-d=96_l=8_h=4-0.25_heavy.json
8d71595b0eb9b1042736630a44fd971e3c9b9bfae60b088bfc9eb5cfcf60dd7a evaluation_c4_original-d=96_l=8_h=4-0.5_heavy.json
866e0290c817c27a79ef8c0201037213b33d98baf8c157169b92798eb244faff evaluation_c4_original-d=96_l=8_h=4-1.0_heavy.json
c4f084faaa29c08db678320948e5638b45c13c21f03eb6bbc05e7234774f918f evaluation_c4_original-d=96_l=8_h=4-16.0_heavy.json
4c08ae42d20499dc9d86b0944a03e7d623cf1c7671f31263eac28d37310419b4 evaluation_c4_original-d=96_l=8_h=4-2.0_heavy.json
e3e9f3e3b0194b462665ac28d1eeb2a9577c90178bcdb5d8f13817fab0e20b60 evaluation_c4_original-d=96_l=8_h=4-32.0_heavy.json
d16faaa2f9cf9f9fb613c7dbdf7ed614aa470b3ae853cc5ea797e58041696a79 evaluation_c4_original-d=96_l=8_h=4-4.0_heavy.json
73d7c034beed526ba226f6dd3019acc0d5fa51047852ad43ef993444f9dcb858 evaluation_c4_original-d=96_l=8_h=4-8.0_heavy.json
665dca20f7dc054994e4e337696544eff8871d7280790a7889fea98236f49c4f evaluation_c4_original-open_lm_1b-1.0_heavy.json
8679ee3e4f7ed62a6723690607a99ab93d4f67bbca30473374ff5398747b66ed evaluation_c4_original-open_lm_1b-4.0_heavy.json
73682bf8c39cea0fd0b224d2c310dd256feec6552ff0b4936668294444b6b62b evaluation_c4_original-open_lm_7b-1.0_heavy.json
5db297cb6b538b3460783e39ec82771e119e5f2b07cdfa5cdfcc82662449aef1 evaluation_rpj-d=1024_l=24_h=8-0.25_heavy.json
36e35b2b64e1d4df50aaba6a76de8a80a8ca62b1e39250799dd79b7148a91e0f evaluation_rpj-d=1024_l=24_h=8-0.5_heavy.json
d457e978adc3b9c23a0b904c75d8a13b371e72a4cfa20e84e7749a04c32872d2 evaluation_rpj-d=1024_l=24_h=8-1.0_heavy.json
6850e7dbb85693b7db51dd161cbfc20d02f2a148a474a21b75941635abfccb95 evaluation_rpj-d=1024_l=24_h=8-16.0_heavy.json
7c4a8387b2df48a144a450a90173c024e17df516ddf54f514af2647b1610ccf5 evaluation_rpj-d=1024_l=24_h=8-2.0_heavy.json
a0dfac5c44cf27b9189952aab9e5632f1ebd75d895515e0403e3d9f0fbb657dd evaluation_rpj-d=1024_l=24_h=8-32.0_heavy.json
ba2078070302b0dbbdaeeadd8a3e0504a8e421e2795ebdcbced7ff67dfbd5e03 evaluation_rpj-d=1024_l=24_h=8-4.0_heavy.json
607cc6bfc79655b33093eca55e08abbd1be92febc119e21a02de83c36acadd6a evaluation_rpj-d=1024_l=24_h=8-8.0_heavy.json
222cdaef719061be430c067c0fe3da73c36a16ed33c3e891161cd630451a3474 evaluation_rpj-d=512_l=8_h=4-0.25_heavy.json
47a0f64f92f270870a4b9eb87f4146f0c140a53829aa529e82606a36bde1c7d8 evaluation_rpj-d=512_l=8_h=4-0.5_heavy.json
4626735ceef8744c91097902f3c9fc63c4ab806a20878a876cd89ecdec25df7a evaluation_rpj-d=512_l=8_h=4-1.0_heavy.json
d701a84f686dda5847c08c2baee91f9b6ed5d238c5b974453e0e3d4634e00e67 evaluation_rpj-d=512_l=8_h=4-16.0_heavy.json
b82796ca6705815b9b51e21ced6971d3c2fb4a999bb9610e9c9d1cb0aceb9384 evaluation_rpj-d=512_l=8_h=4-2.0_heavy.json
b351ced39b18696b0a8a4a46e2907fbe937f5e281715c022055e31e2ff3dae22 evaluation_rpj-d=512_l=8_h=4-32.0_heavy.json
0c24aa9961fa2ade37f9793acab02a0843650e973f4cb76b84941f61a2e417db evaluation_rpj-d=512_l=8_h=4-4.0_heavy.json
dd855125af6b1136275c0b884234428d58a36041293d668b6b282108ef5322b6 evaluation_rpj-d=512_l=8_h=4-8.0_heavy.json
399cb26f1e27e110bcbb8a232876f69c1b111d93a28176593c5f539da904cca0 evaluation_rpj-d=576_l=24_h=8-0.25_heavy.json
dfb5d3941d751ff92cb765272ede70a7dc9b263c440fed745ec3e6fb92d91f85 evaluation_rpj-d=576_l=24_h=8-0.5_heavy.json
ff1f6b29041669eca1e7f8ee741b2fd4ea657b6d2d012bb63fe6af8a1fcb2c7c evaluation_rpj-d=576_l=24_h=8-1.0_heavy.json
7cf2db697cece71f244df4aabf3f11454ac79e6382122785ffbc9e107044d73a evaluation_rpj-d=576_l=24_h=8-16.0_heavy.json
a34619ebc6cc8e39101ef5e0f02c70418539df4b277c3d308f993703da1bcef2 evaluation_rpj-d=576_l=24_h=8-2.0_heavy.json
f623e8a0c793e6f277baed4b848d023f8cfa04e637195f58aa746c56a3e062d1 evaluation_rpj-d=576_l=24_h=8-32.0_heavy.json
b89537eadc801d7b884cd1e6b11d0cd25b9a10a4285387eaf04c1e99b6fdfade evaluation_rpj-d=576_l=24_h=8-4.0_heavy.json
8a9362f0a4de493684774e8fa2147e38bfd1ec5a7b18dc4fedf8bb5cb6742ac8 evaluation_rpj-d=576_l=24_h=8-8.0_heavy.json
94eaf0356677e90513c10dce16078093dfa708f5c9e07f45a103228c7cee32a5 evaluation_rpj-d=96_l=8_h=4-0.25_heavy.json
d081e2b1e0ec79df7febd9123b3529c6a2b043233aace62fc04e0c14b4b020f2 evaluation_rpj-d=96_l=8_h=4-0.5_heavy.json
913f558fa989bc7bacc81666dd794e2b1f835ef15f30787114f5a7142c299e1b evaluation_rpj-d=96_l=8_h=4-1.0_heavy.json
a900f9f040a1844c5b3568af04f22b5ad6c82a4691407a1773e7001540269ade evaluation_rpj-d=96_l=8_h=4-16.0_heavy.json
0f6966eaf5e245ae39d42a717733976ff11b0c292dc827029b17dc4d5d770e7b evaluation_rpj-d=96_l=8_h=4-2.0_heavy.json
0ffe1616d7e4022262db2622a16ed6b7ab3a642fbcf58f8a80a525d8a6faa83d evaluation_rpj-d=96_l=8_h=4-32.0_heavy.json
c18eeae160ff0488a845c283a458b3c3c54164b7ac6832cd78fea35b4228f5be evaluation_rpj-d=96_l=8_h=4-4.0_heavy.json
85c7cbc6aae4d5a383b81501cbec377a0e2143b5f8cbb8c4b2c423f328fc24d2 evaluation_rpj-d=96_l=8_h=4-8.0_heavy.json
1e93269d6e4b4886410df04ff41d9c940e87e1d708370ea9f0536a4d4255f04e evaluation_rpj-open_lm_1b-1.0_heavy.json
f195ffc908505011b6a6e5826cffacecbd2b3a6478d5b2cc470e0ca9b80175eb evaluation_rpj-open_lm_1b-32.0_heavy.json
98fcd35964314b4618a1d3f3dc63e8e330422af046025c96e23a6b367f316d91 evaluation_rpj-open_lm_7b-1.0_heavy.json
62fe6ccdc7b876224c2855c57ddbea4285d7c9f13023e30e8699f3a9911cda70 evaluation_rw_original-d=1024_l=24_h=8-0.25_heavy.json
3d106fdf5da9ab02fb5a9ea11b8743bd0582d77446ca5b824a82e8f693e8a65a evaluation_rw_original-d=1024_l=24_h=8-0.5_heavy.json
1f1bfe8eded82b4bee244d18972a2786527e3b89579b39f8acaddf629a4688b8 evaluation_rw_original-d=1024_l=24_h=8-1.0_heavy.json
eab651e63d342471d7d30af6d278bf47b2ac98e6793539ddf640afb130b28726 evaluation_rw_original-d=1024_l=24_h=8-16.0_heavy.json
fc947b9738bbbfa2d72e8c1366d8d895262a7de585639a9684d6113e1d03ca5c evaluation_rw_original-d=1024_l=24_h=8-2.0_heavy.json
9b993b8b6f701e01f62e72331e55e4ec24cf6cb5e920a6da841c85774b39a90e evaluation_rw_original-d=1024_l=24_h=8-32.0_heavy.json
2e32d97c4c2d971c225b909e022b9e5d264577da6808a952dfac609898d71529 evaluation_rw_original-d=1024_l=24_h=8-4.0_heavy.json
a4e07214dc8247375b298779b3ed7a5fdb9070cf8c3888422a19a1ff7eda4417 evaluation_rw_original-d=1024_l=24_h=8-8.0_heavy.json
abcce222c5910cf63d013551664cb89ea3b7e4948c68297d101aca9196a26737 evaluation_rw_original-d=512_l=8_h=4-0.25_heavy.json
cb63887ca42fba63eb8d2e5ec79fbde3d8e5638866a1e8de4516df08e440ff86 evaluation_rw_original-d=512_l=8_h=4-0.5_heavy.json
4b861d04027474d2d4a3469a54f0d039b6a31a2e88daa845275eea99e4935e49 evaluation_rw_original-d=512_l=8_h=4-1.0_heavy.json
2ff23eb83336cafee6d3d884667c8be8fcd04e201bc62c01dab8eb5d6e179d54 evaluation_rw_original-d=512_l=8_h=4-16.0_heavy.json
133e0797fd90c2d6b058ba767fc3330ad7221c5e7ba9561cc6c473808c7ef477 evaluation_rw_original-d=512_l=8_h=4-2.0_heavy.json
582f9cc05549c6fe8eca8ddb8c1d4691765c369563589d30213a8b7f41a76d57 evaluation_rw_original-d=512_l=8_h=4-32.0_heavy.json
5d2a19cfc13d1e8569e617c4edd10f686d8abbfce2104e284e7a7be00a0a9901 evaluation_rw_original-d=512_l=8_h=4-4.0_heavy.json
3d6923fc23452ec9bfc7f881f4d64ebd76a7ef2dcc6dd3c28325dbe68eb7366f evaluation_rw_original-d=512_l=8_h=4-8.0_heavy.json
e6c170f370aae352b7cf884ef2094a8e07bc129d109b31c64df0c32302f5c116 evaluation_rw_original-d=576_l=24_h=8-0.25_heavy.json
81459016a622048758f89ddd5e6cb6f63164e9be727e83e9f0217e8ed4c420ad evaluation_rw_original-d=576_l=24_h=8-0.5_heavy.json
92f209b486866bfa623f55c8cf248c374cf8b57befdbc7162a01cdf9e8bd5eb9 evaluation_rw_original-d=576_l=24_h=8-1.0_heavy.json
e14b7f83d7332e843808a428545ac10fa751f17f2be618bf1e0596c79a3ad302 evaluation_rw_original-d=576_l=24_h=8-16.0_heavy.json
8ece24de398b46833330faacef4b96af541403068a1ac7bf3e6511cd27d801bd evaluation_rw_original-d=576_l=24_h=8-2.0_heavy.json
0fe18c9cdad2d4336a9c10c962dfb8977842526237d004b1e215f821e315502e evaluation_rw_original-d=576_l=24_h=8-32.0_heavy.json
f22abb2de50dd9393bebfb38fa0b6c2ec3a304d8f6ae26d5210ecc9fe475e0c4 evaluation_rw_original-d=576_l=24_h=8-4.0_heavy.json
cab9c3fb6459c316b0f5aa59265bb5cf3fe6082a0c1e9af12ec98434ca95e798 evaluation_rw_original-d=576_l=24_h=8-8.0_heavy.json
4912d2883dacdcdc9e15445a1ad7c2259ae60d856fe158f3e93fb9c8a44c1ad7 evaluation_rw_original-d=96_l=8_h=4-0.25_heavy.json
7b76b45666cc1a76e7987d7d99cff9c4d52404deb9a541772e34606a9d9071ec evaluation_rw_original-d=96_l=8_h=4-0.5_heavy.json
5f5c621ea624aa29ca0129279af6b7d7b14f3b0cbd6b1fc2f04a0842fe7617a0 evaluation_rw_original-d=96_l=8_h=4-1.0_heavy.json
f13e71e47dc998de8dd9bf9d09f0a4e053e3763108faffa12d88ca8b5e2e7fcf evaluation_rw_original-d=96_l=8_h=4-16.0_heavy.json
dd5818c3e7885282aeb8e35ec9a3f026f74ced9de059d2db760e4ae4068411df evaluation_rw_original-d=96_l=8_h=4-2.0_heavy.json
7fcebe0ad715b34cfe13812fc233711e70b141b9139eeda457a830ac045a3b6e evaluation_rw_original-d=96_l=8_h=4-32.0_heavy.json
506d6b2078643b17c9adbbb9ca898333d9f60481345c353e214ff5adb0e081ef evaluation_rw_original-d=96_l=8_h=4-4.0_heavy.json
e82baa868c04724652f5ae507d63d0af22afe89960e1081e1568939737ab3a7e evaluation_rw_original-d=96_l=8_h=4-8.0_heavy.json
ea713c5372e7ebb0c18289442fe5b0216f5f9a608332824e30b29af1c21393b3 evaluation_rw_original-open_lm_1b-1.0_heavy.json
2a6160c9eccaa8487ba0071d48ff6b48ba987ec257bb301f6cef6bf9502c3ecb evaluation_rw_original-open_lm_1b-16.0_heavy.json
c847b9f83f999f71f96969259ee6033c3ee45e5d0f0f486139e5b2c34fc0c67e evaluation_rw_original-open_lm_7b-1.0_heavy.json
"""


def _gadre_files() -> tuple[RemoteFile, ...]:
    out = []
    for line in _GADRE_MODELS_SHA256.strip().splitlines():
        digest, fname = line.split()
        out.append(RemoteFile(f"exp_data/models/{fname}", digest))
    for line in _GADRE_EVALS_SHA256.strip().splitlines():
        digest, fname = line.split()
        out.append(RemoteFile(f"exp_data/evals/{fname}", digest))
    return tuple(out)


def _parse_epoch(fetch: P.Fetch, spec: DatasetSpec, o: dict[str, Any]) -> P.Parsed | pd.DataFrame:
    return P.parse_epoch_chinchilla(fetch, drop_highest_loss=o["drop_highest_loss"])


def _parse_gadre(fetch: P.Fetch, spec: DatasetSpec, o: dict[str, Any]) -> P.Parsed | pd.DataFrame:
    return P.parse_gadre_overtraining(fetch, [f.path for f in spec.files], split=o["split"])


def _parse_porian(fetch: P.Fetch, spec: DatasetSpec, o: dict[str, Any]) -> P.Parsed | pd.DataFrame:
    return P.parse_porian_resolving(fetch, table=o["table"])


def _parse_datablations(fetch: P.Fetch, spec: DatasetSpec, o: dict[str, Any]) -> P.Parsed | pd.DataFrame:
    return P.parse_muennighoff_datablations(fetch)


def _parse_colpret(fetch: P.Fetch, spec: DatasetSpec, o: dict[str, Any]) -> P.Parsed | pd.DataFrame:
    if o["part"] == "gpt3":
        return P.parse_colpret_gpt3(fetch, loss=o["loss"])
    if o["part"] == "datablations":
        return P.parse_colpret_datablations(fetch)
    raise DatasetError(format_message("Option part", "of dataset 'colpret_curves'",
                                      "one of ['gpt3', 'datablations']", repr(o["part"]),
                                      "'gpt3' (default) or 'datablations'."))


REGISTRY: dict[str, DatasetSpec] = {}


def _register(spec: DatasetSpec) -> None:
    REGISTRY[spec.name] = spec


_register(DatasetSpec(
    name="epoch_chinchilla",
    repo="epoch-research/analyzing-chinchilla",
    commit="92258837425e1b5f2851d624287f0120583a3d0e",
    files=(RemoteFile("data/svg_extracted_data.csv",
                      "193478df4e90f040016431996c45682659306840ecdadf83cfb9cd5ca0aa1b30"),),
    license="no LICENSE file in the repository (the same bytes are redistributed under MIT in IBM/ColPret as "
            "raw_data/chinchila_extracted.csv); cite, download on demand, do not bundle",
    paper="Besiroglu, Erdil, Barnett, You 2024, 'Chinchilla Scaling: A replication attempt'",
    arxiv="2404.10102",
    description="245 (N, C, loss) points digitised from the SVG of Hoffmann et al. 2022, Figure 4 (left); "
                "D = C/(6N) is derived",
    rows=245,
    units="n_params: parameters; flops: training FLOPs; n_tokens: derived C/(6N); loss: nats/token (quantised "
          "through the figure's colour bar)",
    n_params_convention="total",
    n_params_note="total (Chinchilla convention, embeddings included); N carries extraction noise "
                        "(142 distinct values for about 43 real sizes)",
    backs="Epoch's refit of Hoffmann et al.'s Approach 3 on the 240 points left after dropping the 5 "
          "highest losses: A=482.01, B=2085.43, E=1.8172, alpha=0.3478, beta=0.3658 (paper, Huber-likelihood "
          "fit; a summed-Huber refit gives A=477.82, B=2143.42, E=1.8172, alpha=0.3473, beta=0.3672) and its "
          "4000-resample bootstrap",
    parser=_parse_epoch,
    options={"drop_highest_loss": (0, "move the k highest-loss points to table.excluded (Epoch use 5)")},
))

_register(DatasetSpec(
    name="gadre_overtraining",
    repo="mlfoundations/scaling",
    commit="a003c4913793ac2ae7ef87b28ecb562955d026d5",
    files=_gadre_files(),
    license="MIT (LICENSE.txt)",
    paper="Gadre et al. 2024, 'Language models scale reliably with over-training and on downstream tasks'",
    arxiv="2403.08540",
    description="104 open_lm models (one JSON each): 3 training sets (c4_original, rpj, rw_original) x shapes "
                "of 11M-412M parameters at token multipliers M = D/N in 5..640, plus 1.4B and 6.9B models; "
                "final evaluation losses on 8 validation sets",
    rows=104,
    units="n_params, n_params_nonembedding: parameters; n_tokens: training tokens; loss: nats/token",
    n_params_convention="total",
    n_params_note="total (hyperparameters.params, embeddings included); n_params_nonembedding = "
                        "params_no_embed",
    backs="Figure 1 / Table 2: L(N, M) = a N^b + c 6^(b/2) (M N)^b + E fitted on 5 RedPajama runs with C4-eval "
          "loss extrapolates with relative error 0.7103% (1.4B, M=640) and 0.7320% (6.9B, M=20); "
          "(a, c, b, E) ~ (166.2, 366.7, -0.2729, 1.8366)",
    parser=_parse_gadre,
    options={"split": ("c4_val", "evaluation split of 'loss': " + ", ".join(P.GADRE_SPLITS))},
))

_register(DatasetSpec(
    name="porian_resolving",
    repo="formll/resolving-scaling-law-discrepancies",
    commit="0dc60d91b8a525858a3067fc9e4a46ff5374cc6f",
    files=(
        RemoteFile("data/summary_df.pickle.xz", "afbf07ec92d23182f56a44dd43599f2a7e9716fd70492fbc0a35f6093272b74f"),
        RemoteFile("data/summary_df_att.pickle.xz",
                   "40218b8320817bf3c34f82c57aaa28c53ccb5feb9bb3928ee6fc70868ac22af7"),
        RemoteFile("data/summary_df_kaplan_tuned_hparams.pickle.xz",
                   "09b6b91c9c6fa0e4c2684dcbed82475ee62d6c4fc60db5ca2ce5653b08f0ae55"),
        RemoteFile("data/summary_df_owt2.pickle.xz",
                   "7aed67d1ad9bc1d7b0518e3814cee1129216b423b4538d4b724873dd670cff30"),
    ),
    license="MIT (LICENSE)",
    paper="Porian, Wortsman, Jitsev, Schmidt, Carmon 2024, 'Resolving Discrepancies in Compute-Optimal Scaling "
          "of Language Models'",
    arxiv="2406.19146",
    description="isoFLOP points (1,745) of 15 configurations (dataset rw/owt2 x hparams x warmup x decay x "
                "parameter counting x loss split), budgets 1.25e16-2.56e19 FLOPs; also the 177 compute-optimal "
                "pairs (table='optimal_pairs') and the authors' per-configuration fits (table='fit_results'). "
                "Read with a restricted unpickler",
    rows=1745,
    units="flops: FLOPs (the configuration's counting rule); n_params: parameters; n_tokens: C/(6N); "
          "loss: nats/token",
    n_params_convention=None,
    n_params_note="per configuration (column param_count): 'kaplan' = non-embedding, 'standard' = with the "
                        "vocab x width matrix counted once, 'attention' = (6 params + 6 seq width depth)/6; filter "
                        "to one group before fitting",
    backs="Figure 1: exponent a of N* ~ C^a per correction step, RefinedWeb 0.834 -> 0.701 -> 0.604 -> 0.571 -> "
          "0.497, OWT2 0.870 -> 0.700 -> 0.602 -> 0.569 -> 0.518 (OLS of log N* on log C over optimal_pairs "
          "reproduces each to 4 decimals)",
    parser=_parse_porian,
    options={"table": ("isoflop", "'isoflop' (RunTable of raw points), 'optimal_pairs' (RunTable of N*, D* per "
                                  "budget), 'fit_results' (pandas DataFrame, 15 rows)")},
))

_register(DatasetSpec(
    name="muennighoff_datablations",
    repo="huggingface/datablations",
    commit="13701315b163f1c54642b94ad237b2699187c3ee",
    files=(RemoteFile("utils/parametric_fit.ipynb",
                      "6c65d270e70c944a9ac90f5f1213a4584e1ff9d6d2781cd86900663f4ab17db9"),),
    license="Apache-2.0 (LICENSE.md)",
    paper="Muennighoff, Rush, Barak, Le Scao, Piktus, Tazi, Pyysalo, Wolf, Raffel 2023, 'Scaling Data-Constrained "
          "Language Models'",
    arxiv="2305.16264",
    description="296 final C4 validation losses of runs with N parameters, D total and U unique tokens "
                "(repeated for D/U epochs), read from the dict literals of the notebook's first code cell "
                "(ast.literal_eval, never executed); 21 dedup/unfinished entries in table.excluded",
    rows=296,
    units="n_params: parameters; n_tokens: total training tokens; n_unique_tokens: unique tokens; "
          "loss: nats/token",
    n_params_convention="total",
    n_params_note="total (embeddings included; the notebook's PARAMS_MAP)",
    backs="the data-constrained law (R_D* = 15.39, R_N* = 5.31; the notebook fitted 182 samples of an earlier "
          "dict, so an exact refit is not guaranteed) and the double-descent points (14M parameters, 100M unique "
          "tokens: loss 4.383 at 14B tokens, 4.510 at 20B, 4.304 at 900B)",
    parser=_parse_datablations,
))

_register(DatasetSpec(
    name="colpret_curves",
    repo="IBM/ColPret",
    commit="16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    files=(
        RemoteFile("raw_data/gpt3/extracted.csv", "ea73b550de60d8b278523fa69385df0c2892546f8820aea12b4d1fe2d4f98962"),
        RemoteFile("raw_data/gpt3/gpt3_metadata.xlsx",
                   "cf4e0d7685bf80db61e4bf36849101dcd518cededc5dfd4cc86eeaffe55d927a"),
        RemoteFile("aggregated_eval/datablations_losses.csv",
                   "b3c448c2cd1a17128e06ee3120a9c377c4e2bf649e09b2446db59f98ef957b48"),
    ),
    license="MIT (LICENSE); the files redistribute others' data (GPT-3 curves from Brown et al. 2020, "
            "datablations runs from Muennighoff et al. 2023)",
    paper="Choshen, Zhang, Andreas 2024, 'A Hitchhiker's Guide to Scaling Law Estimation'",
    arxiv="2410.11840",
    description="learning curves: part='gpt3' (default), the 8 GPT-3 models' training-loss curves digitised "
                "from Brown et al. 2020 (5,591 points; loss='val_loss' for the 6,506 validation points); "
                "part='datablations', 48 loss-vs-tokens curves (9,261 rows) of the datablations repetition runs",
    rows=5591,
    units="n_tokens: tokens seen (GPT-3: 1e9 x the file's 'step'); n_params: parameters; loss: nats/token; "
          "flops: derived 6ND",
    n_params_convention="total",
    n_params_note="total: GPT-3 Table 2.1 counts (Brown et al. 2020, arXiv 2005.14165); datablations "
                        "2.81e9 / 4.2465e9 / 8.67e9 (with embeddings)",
    backs="Choshen et al.'s scaling-law estimation experiments (fits on partial curves); Approach 1 envelopes "
          "over GPT-3 sizes; repetition (epochs) effects of Muennighoff et al. 2023",
    parser=_parse_colpret,
    options={"part": ("gpt3", "'gpt3' or 'datablations'"),
             "loss": ("train_loss", "part='gpt3' only: 'train_loss' or 'val_loss'")},
))


# sha256 of the mirrored files of allenai/OLMo-ladder @ 67a3f44 (its SHA256SUMS.txt), paths under
# src/scripts/paper/: the 41 run files, the fitting configuration and the paper's figure data (reference values).
_OLMO_LADDER_SHA256 = """
3fcb831b03e9761ab1be750f89c7a6b8832fda09c491d80bec8593ec9e08d1c8 configs/final.json
d4e9f80960149676352b61b739c4dca727bffee5e7a8f41919119365fcde0534 data/ladder-runs/190M-0.5xC.csv
192b115c3f02b6503043280f8303c59f5b10897cd631f1b8ec6aea944d22faa6 data/ladder-runs/190M-10xC.csv
50e635e970e4a29c838d644f942503f9ef6e0d78feb744055447413de42a3e2b data/ladder-runs/190M-1xC-rerun.csv
8ac0066547d5edec4d05d2b861a26c7faf591eef6971e11acba2450a45e69c27 data/ladder-runs/190M-1xC.csv
db90c75f8d031d0754e7108f1a8d16f372603e0c04d2cb00cca08cf272ecf86a data/ladder-runs/190M-2xC.csv
aefe54fa03bd158d6da178b1eb2ece88cb0681bb32403845b6e544ae9e4e5dcf data/ladder-runs/190M-5xC.csv
7c44ecf10ddaeba4c5ceb26ac0db8b9454163c19903556238d3117685768126a data/ladder-runs/1B-0.5xC.csv
ec7e7487c67a774d9b919ec35121966ded7ae2ce5ede135f1d32f509f451476f data/ladder-runs/1B-10xC.csv
878e664acbb68df93b046a4242ccac12b321276e1f2fcbbbc6fa8779bd5eaa24 data/ladder-runs/1B-1xC-rerun.csv
7fe91f0552829238e591e55c03f66b743ac5931388d9710457a845d92c2d9102 data/ladder-runs/1B-1xC.csv
34ba12a08a52e10e89a71d88a5c13538c3df21e5e993c476cadb08eb4b2eb354 data/ladder-runs/1B-2xC.csv
d195153f05b846f6d4f8ca95247d1f79d9d00e898d856b244b17e20431539ddb data/ladder-runs/1B-5xC.csv
04e12eec843bb7b8bf292ec8837edd8db63010469e457d145a1757d48a91bac9 data/ladder-runs/370M-0.5xC.csv
3f25b4ec4035caeb71b787d165857667779dc3b92739c6379b8f8ce7079fcb58 data/ladder-runs/370M-10xC.csv
e27c89356cc6c842585c0232bb3be20bd066c2d4f859d1a3c772c43e5b6887c7 data/ladder-runs/370M-1xC-rerun.csv
3597a61872596affbb61e83f36c7cc3fe43485c3ed30ba6d658064b57edcea07 data/ladder-runs/370M-1xC.csv
73c686e580ad0600ca12334bf22ab3dad3265583a948e3beaae5b79b9a20c137 data/ladder-runs/370M-2xC.csv
199905d322b0332b69f1d0a40de9be43e5eb3cf576fc1d3031578cdea09708fa data/ladder-runs/370M-5xC.csv
35247d4ff9af52c11bdec95a31e069599f43564ba6094a3893b49d91aa258410 data/ladder-runs/3B-0.5xC.csv
1ff388361b6d8e4548aaaaecd8a0437a21e28b9af11c4696225e322c8526e488 data/ladder-runs/3B-10xC.csv
5c2b189aa82b964c4005fce327b42e9399110d297c83903d03d03d0892e11d7d data/ladder-runs/3B-1xC-rerun.csv
bd5dbad1b2942c58439006f77dba46ff2f66ad8760f8d709f9ced4fcb387bedb data/ladder-runs/3B-1xC.csv
b933055d54221855c893245331770c0e7314dea5203518640da88773d92d8e47 data/ladder-runs/3B-2xC.csv
4b02c35ea9b3623402ac3a401dbc66ed827dcecede04343ea65cc2bbf6bfd962 data/ladder-runs/3B-5xC.csv
a02cee96b21c78a6a9c71ba99ead71c454fc6561e50b778681ab1d7182df6cf6 data/ladder-runs/760M-0.5xC.csv
e256c9df6d3b7af66bbcf4dc7ca84b45a812bd205b70648ca5177c8b74f6ff40 data/ladder-runs/760M-10xC.csv
f5b2775ebc27c80f21e13e0bf35622007b8b30f09734ab0bb6f7e871bf33103b data/ladder-runs/760M-1xC-rerun.csv
a830185275c91cc077379540ec91a71b4bea6f191ca99a8090c851be19e7956d data/ladder-runs/760M-1xC.csv
8c1ad2bf7da390b9eed24af7b6eb12a6393cc077164d51b4e4740f7221f1193c data/ladder-runs/760M-2xC.csv
9c08b58d2625f427253bbd2079bad3a90726a66486154dd4f82ef84560e275ec data/ladder-runs/760M-5xC.csv
596a40b73a8c0d198a162242c6c9b888dea59a3794837f05fe1139e1a4ead201 data/ladder-runs/peteish13_eval_50k-150k.csv
8cbdd4c2818b05ff30476a9bd4ecae620da89193ca61183bc2d61e111a9d0059 data/ladder-runs/peteish13_eval_final.csv
14cb53fac27ca2553a061f055f31fdc297272026c7eccfb195073656fd21fb2f data/ladder-runs/peteish13_eval_full.csv
b121379c9d62a6e3539ef6bc22f47cdfe65a2df0f23020d68457ad58ea7b3399 data/ladder-runs/peteish7_eval_170k-450k.csv
0742d6c113aa0f9c789cf9e5745678fc6f30eb9b873a1f98068fc6f6522c85df data/ladder-runs/peteish7_eval_anneal.csv
3b7c0c268500292564540a951a757f0a938b5c17949fdaec6822068f7d65affb data/ladder-runs/peteish7_eval_full.csv
04cc73205df30bd5af152ac7ed462c3528589086c3cdbb9e9478f245e1508cfd data/ladder-runs/peteish7_medlr_eval_170k-end.csv
ae6b6c6703e3b9a84b73f2ff8e2eea6ba4b9be40824e2185d13ca05d6c48fea6 data/ladder-runs/peteish7_medlr_eval_210k-325k.csv
d85c9e4ba72f4f218cc96cd4ffe3873c377f26c16db1f46fcca18bc7e02885ba data/ladder-runs/peteish7_medlr_eval_330k-490k.csv
43ecf1ebe4d6c770ffb1c8cccfe5e6d296d3195c60b0d13ce8d8cdaa176840f0 data/ladder-runs/peteish7_medlr_eval_5k-205k.csv
35d073ef63333d95e0cde78db6ee6521f7719b4d2950495dbc508566c1d4eb9a data/ladder-runs/peteish7_medlr_eval_full.csv
62984273d7e0a2f8068771e4f4578deb9dd451e5fc93a1647fffd489efab0572 figures/chained_main.csv
e689f6f427ca0abab58d07f642bfef10d49354011a290bab264bb7e373a6b224 figures/step1_main.csv
4e20ac222cc6273d139fd1e8c121333129102977f170dcd0798836d9e1ee190f figures/step2_main.csv
03c0ac988fb7045b4fa4248c25960431b54df9d2332b99e76fecbc2ad8cd7347 figures/variance.csv
"""


def _sha_list(text: str, prefix: str = "") -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(prefix + path, digest)
                 for digest, path in (line.split() for line in text.strip().splitlines()))


def _parse_olmo_ladder(fetch: P.Fetch, spec: DatasetSpec, o: dict[str, Any]) -> P.Parsed | pd.DataFrame:
    return P.parse_olmo_ladder(fetch, [f.path for f in spec.files])


_register(DatasetSpec(
    name="olmo_ladder",
    repo="allenai/OLMo-ladder",
    commit="67a3f440f787d020da35e3ca8eeae475fae754f5",
    files=_sha_list(_OLMO_LADDER_SHA256, prefix="src/scripts/paper/"),
    license="Apache-2.0 (LICENSE)",
    paper="Bhagia et al. 2024, 'Establishing Task Scaling Laws via Compute-Efficient Model Ladders'",
    arxiv="2412.04403",
    description="per-checkpoint evaluations of AI2's OLMo ladder (190M, 370M, 760M, 1B, 3B x 0.5/1/2/5/10 x "
                "Chinchilla tokens, plus the -1xC reruns) and of the 7B-4T and 13B-5T target models: one row per "
                "checkpoint, a column per validation loss and task metric (bpb_<task>, acc_<task>)",
    rows=4196,
    units="n_params: non-embedding parameters; n_tokens: tokens seen at the checkpoint; loss: C4 validation "
          "loss, nats/token; bpb_*: bits per byte; acc_*: accuracy (fraction)",
    n_params_convention="non-embedding",
    n_params_note="non-embedding counts of configs/final.json (the 3B count from the repo's MODEL_PARAMS)",
    backs="Bhagia et al. 2024's two-step task-law predictions for the 7B-4T and 13B-5T models (REFERENCE §12; "
          "figures/chained_main.csv)",
    parser=_parse_olmo_ladder,
))


def _parse_obsscaling(fetch: P.Fetch, spec: DatasetSpec, o: dict[str, Any]) -> P.Parsed | pd.DataFrame:
    return P.parse_obsscaling(fetch)


_register(DatasetSpec(
    name="obsscaling",
    repo="ryoungj/ObsScaling",
    commit="4d6e1e43fd2635d04654aa77d1df9d5266ea0382",
    files=(RemoteFile("eval_results/base_llm_benchmark_eval.csv",
                      "511996815735a4c46251dc585dcc525e370d148201f86561e6f927f9df2d0db8"),),
    license="Apache-2.0 (LICENSE)",
    paper="Ruan, Maddison, Hashimoto 2024, 'Observational Scaling Laws and the Predictability of Language Model "
          "Performance'",
    arxiv="2405.10938",
    description="148 public base language models of 47 families: size, pretraining tokens, FLOPs and scores on 8 "
                "benchmarks (MMLU, ARC-C, HellaSwag, Winograd, TruthfulQA, GSM8K, XWinograd, HumanEval); a plain "
                "DataFrame (models with scores, no loss)",
    rows=148,
    units="n_params: parameters; n_tokens: pretraining tokens; flops: training FLOPs (as the authors, ~6ND); "
          "benchmarks: accuracy (fraction)",
    n_params_convention=None,
    n_params_note="as reported by the model releases (Model Size (B)), convention varies by family",
    backs="the low-dimensional capability space of Ruan et al. 2024 (REFERENCE §12: centred PCA on the 124 complete "
          "rows explains 84.3 / 94.3 / 97.4 % cumulatively)",
    parser=_parse_obsscaling,
))


def _parse_multipower(fetch: P.Fetch, spec: DatasetSpec, o: dict[str, Any]) -> P.Parsed | pd.DataFrame:
    from . import multipower

    return multipower.parse_multipowerlaw(fetch, o)


def _multipower_files() -> tuple[RemoteFile, ...]:
    from .multipower import FILES_SHA256

    return tuple(RemoteFile(path, digest) for path, digest in FILES_SHA256.items())


_register(DatasetSpec(
    name="multipowerlaw_schedules",
    repo="thu-yao-01-luo/MultiPowerLaw",
    commit="8da9f1902602f3391b971a811e3cc51604541769",
    files=_multipower_files(),
    license="MIT (LICENSE)",
    paper="Luo, Wen, Li, Wu, Zhang, Lyu 2025, 'A Multi-Power Law for Loss Curve Prediction Across Learning Rate "
          "Schedules'",
    arxiv="2503.12811",
    description="27 training-loss curves (25M, 100M, 400M parameters x 9 learning-rate schedules: cosine, constant, "
                "WSD with exponential/linear decay, two-stage), logged every ~128 steps; the per-step schedule "
                "of each curve is rebuilt from its name (scaling.datasets.multipower.schedule_for)",
    rows=6265,
    units="step: optimizer steps; n_tokens: = step (tokens per step not given); lr: learning rate; "
          "loss: training loss, nats/token",
    n_params_convention=None,
    n_params_note="nominal model sizes 25M / 100M / 400M (the repo's labels; counting rule not stated)",
    backs="with the published parameters (src/config.py) the training objective (Huber 1e-3 on log loss, summed "
          "over cosine_24000, constant_24000, wsdcon_9) 2.9122e-4 / 2.8096e-4 / 5.7699e-4 and the mean test PredE "
          "1.102e-3 / 1.425e-3 / 1.680e-3 (25M / 100M / 400M; logs/*.log, README); a tight refit reaches "
          "1.3843e-4 / 2.1331e-5 / 7.8834e-5 (REFERENCE.md section 12)",
    parser=_parse_multipower,
))



def get_dataset(name: str) -> DatasetSpec:
    """The registry entry of dataset ``name`` (raises DataError listing the known names)."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise DatasetError(format_message("Dataset name", "", f"one of {sorted(REGISTRY)}", repr(name),
                                          "See scaling.datasets.list_datasets().")) from None


def list_datasets() -> pd.DataFrame:
    """One row per registered dataset: name, license, source (repo@commit), paper, arXiv id, rows, ...

    Returns
    -------
    pandas.DataFrame
        Columns ``name, license, source, paper, arxiv, rows, description, n_params_convention,
        n_params_note, units, backs, options, n_files``.
    """
    rows = []
    for spec in REGISTRY.values():
        rows.append({
            "name": spec.name, "license": spec.license, "source": spec.source, "paper": spec.paper,
            "arxiv": spec.arxiv, "rows": spec.rows, "description": spec.description,
            "n_params_convention": spec.n_params_convention, "n_params_note": spec.n_params_note,
            "units": spec.units, "backs": spec.backs,
            "options": ", ".join(f"{k}={v[0]!r}" for k, v in spec.options.items()),
            "parser": f"{spec.parser.__module__}.{spec.parser.__name__}",
            "n_files": len(spec.files),
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# file resolution
# --------------------------------------------------------------------------------------------

_VERIFIED: dict[tuple[str, int, int], str] = {}


def clear_verification_cache() -> None:
    """Forget which files were verified in this process (the next access re-hashes them)."""
    _VERIFIED.clear()


def data_dir() -> Path | None:
    """The offline mirror folder (``$SCALING_DATA_DIR``), or None when unset."""
    value = os.environ.get("SCALING_DATA_DIR", "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The user cache folder: ``$SCALING_CACHE_DIR``, else platformdirs' user cache, else ~/.cache/scaling."""
    value = os.environ.get("SCALING_CACHE_DIR", "").strip()
    if value:
        return Path(value).expanduser()
    try:
        import platformdirs
    except ImportError:
        return Path.home() / ".cache" / "scaling"
    return Path(platformdirs.user_cache_dir("scaling"))


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _mismatch(spec: DatasetSpec, rf: RemoteFile, where: str, actual: str, note: str) -> DatasetError:
    return DatasetError(
        f"File {rf.path!r} of dataset {spec.name!r} ({where}) must have sha256 {rf.sha256}; "
        f"got sha256 {actual}. {note}"
    )


def _verify(spec: DatasetSpec, rf: RemoteFile, path: Path, *, where: str, remove_if_bad: bool) -> None:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if _VERIFIED.get(key) == rf.sha256:
        return
    actual = _sha256_of(path)
    if actual != rf.sha256:
        if remove_if_bad:
            path.unlink(missing_ok=True)
            note = (f"The bad copy {path} was deleted; call again with download=True to fetch "
                    f"{spec.url(rf.path)}.")
        else:
            note = f"Replace {path} by the upstream file {spec.url(rf.path)} (the mirror is not modified)."
        raise _mismatch(spec, rf, f"{where} {path}", actual, note)
    _VERIFIED[key] = rf.sha256


def _download(spec: DatasetSpec, rf: RemoteFile, dest: Path) -> None:
    url = spec.url(rf.path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, _urlopen(url, timeout=_DOWNLOAD_TIMEOUT) as resp:
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
        actual = h.hexdigest()
        if actual != rf.sha256:
            raise _mismatch(spec, rf, f"downloaded from {url}", actual,
                            "The download was deleted and nothing was cached; the upstream file or the "
                            "connection is not what the registry pins.")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    st = dest.stat()
    _VERIFIED[(str(dest.resolve()), st.st_size, st.st_mtime_ns)] = rf.sha256
    logger.info("downloaded %s -> %s", url, dest)


def fetch_file(name: str, path: str, *, download: bool = True) -> Path:
    """Local, sha256-verified copy of file ``path`` of dataset ``name``.

    Looks in ``$SCALING_DATA_DIR/<name>/<path>``, then in ``<cache_dir()>/<name>/<path>``, then
    (``download=True``) downloads the pinned URL into the cache.

    Raises
    ------
    DatasetError
        On a sha256 mismatch (message says "sha256"), or when the file is not available offline and
        cannot be downloaded (message says how to get it).
    """
    spec = get_dataset(name)
    rf = spec.file(path)
    mirror = data_dir()
    if mirror is not None:
        candidate = mirror / name / rf.path
        if candidate.is_file():
            _verify(spec, rf, candidate, where="mirror copy", remove_if_bad=False)
            return candidate
    cached = cache_dir() / name / rf.path
    if cached.is_file():
        _verify(spec, rf, cached, where="cached copy", remove_if_bad=True)
        return cached
    failure = " and download=False"
    download_error: Exception | None = None
    if download:
        try:
            _download(spec, rf, cached)
            return cached
        except DatasetError:
            raise
        except (urllib.error.URLError, OSError, ValueError) as exc:  # offline, HTTP error, bad URL, ...
            logger.info("download of %s failed: %s", spec.url(rf.path), exc)
            failure = f" and the download of {spec.url(rf.path)} failed ({type(exc).__name__}: {exc})"
            download_error = exc
    mirror_txt = str(mirror / name / rf.path) if mirror is not None else "SCALING_DATA_DIR unset"
    raise DatasetError(format_message(
        f"File {rf.path!r} of dataset {name!r}", "",
        "available offline or downloadable",
        f"no copy in the mirror ({mirror_txt}) or the cache ({cached}){failure}",
        f"Set SCALING_DATA_DIR to a mirror laid out as <name>/<path in repo>, or download {spec.url(rf.path)} "
        f"to {cached}, or " + ("retry when the URL is reachable." if download else "call with download=True.")
    )) from download_error


def download_dataset(name: str) -> list[Path]:
    """Fetch (mirror, cache or download) and verify every file of dataset ``name``; return local paths."""
    spec = get_dataset(name)
    return [fetch_file(name, rf.path, download=True) for rf in spec.files]


# --------------------------------------------------------------------------------------------
# load_dataset
# --------------------------------------------------------------------------------------------

def load_dataset(
    name: str,
    *,
    download: bool = True,
    drop_highest_loss: int | None = None,
    split: str | None = None,
    table: str | None = None,
    part: str | None = None,
    loss: str | None = None,
) -> RunTable | pd.DataFrame:
    """Load a registered dataset as a :class:`~scaling.RunTable`.

    Parameters
    ----------
    name
        One of :func:`list_datasets`'s names.
    download
        Download missing files into the cache (``False``: only the mirror/cache are used).
    drop_highest_loss
        ``epoch_chinchilla`` only: move the k highest-loss points to ``table.excluded`` (default 0;
        Epoch Research use 5).
    split
        ``gadre_overtraining`` only: evaluation set of ``loss`` (default ``"c4_val"``; also
        ``"openlm"``, ``"paloma_c4_en"``, ``"paloma_dolma_100_programing_languages"``,
        ``"paloma_falcon-refinedweb"``, ``"paloma_ptb"``, ``"paloma_redpajama"``, ``"val_de-en_100"``).
    table
        ``porian_resolving`` only: ``"isoflop"`` (default; RunTable of the 1,745 isoFLOP points),
        ``"optimal_pairs"`` (RunTable of the compute-optimal N*, D* per budget: 173 rows, the 4
        budgets without an optimum in ``excluded``), ``"fit_results"`` (a plain pandas DataFrame of
        the authors' 15 per-configuration fits: ``n_exponent`` = a in N* ∝ C^a, ...).
    part
        ``colpret_curves`` only: ``"gpt3"`` (default) or ``"datablations"``.
    loss
        ``colpret_curves`` with ``part="gpt3"`` only: ``"train_loss"`` (default) or ``"val_loss"``.

    Returns
    -------
    RunTable
        (or a DataFrame for ``porian_resolving`` with ``table="fit_results"``). ``meta`` records the
        dataset, source, URL, licence, paper, parameter-count convention and parse notes.

    Raises
    ------
    DatasetError
        Unknown dataset, an option the dataset does not accept or an invalid option value (the
        message lists the accepted options), a file that fails its sha256, or a file that is not
        available offline.
    """
    spec = get_dataset(name)
    given = {k: v for k, v in {"drop_highest_loss": drop_highest_loss, "split": split, "table": table,
                               "part": part, "loss": loss}.items() if v is not None}
    accepted = dict(spec.options)
    if name == "colpret_curves" and (part or "gpt3") != "gpt3":
        accepted.pop("loss", None)
    for key, value in given.items():
        if key not in accepted:
            listing = ", ".join(f"{k} (default {v[0]!r})" for k, v in accepted.items()) or "none"
            raise DatasetError(format_message(
                f"Option {key}", f"of dataset {name!r}" + (f" (part={part!r})" if name == "colpret_curves" else ""),
                f"one of the options it accepts ({listing})", f"{key}={value!r}",
                "Remove it, or see scaling.datasets.list_datasets()['options']."))
    opts = {k: given.get(k, v[0]) for k, v in accepted.items()}

    def fetch(path: str) -> Path:
        return fetch_file(name, path, download=download)

    result = spec.parser(fetch, spec, opts)
    if isinstance(result, pd.DataFrame):
        result.attrs.update(_base_meta(spec, opts))
        return result
    return _to_table(spec, result, opts)


def _base_meta(spec: DatasetSpec, opts: dict[str, Any]) -> dict[str, Any]:
    return {
        "dataset": spec.name,
        "source": spec.source,
        "url": f"https://github.com/{spec.repo}/tree/{spec.commit}",
        "files": {f.path: f.sha256 for f in spec.files} if len(spec.files) <= 8
        else f"{len(spec.files)} files (see scaling.datasets.get_dataset({spec.name!r}).files)",
        "license": spec.license,
        "paper": spec.paper,
        "arxiv": spec.arxiv,
        "n_params_note": spec.n_params_note,
        "units": spec.units,
        "backs": spec.backs,
        "options": dict(opts),
    }


def _to_table(spec: DatasetSpec, parsed: P.Parsed, opts: dict[str, Any]) -> RunTable:
    from scaling.data import read_table

    from ..data.validate import CANONICAL

    meta = _base_meta(spec, opts)
    meta["notes"] = dict(parsed.meta)
    # Name every canonical column explicitly (None = absent/derived), so that extra columns which
    # happen to be aliases (e.g. Porian's 'param_count') are kept as extras and never picked up.
    columns = {c: (c if c in parsed.frame.columns else None) for c in CANONICAL}
    table = read_table(parsed.frame, columns, name=spec.name, meta=meta, loss_unit="nats",
                       n_params_convention=spec.n_params_convention,  # type: ignore[arg-type]
                       on_invalid=parsed.on_invalid)  # type: ignore[arg-type]
    for keep, reason in parsed.filters:
        table = table.filter(keep, reason=reason)
    if parsed.excluded is not None and len(parsed.excluded):
        table = _with_upstream_exclusions(table, parsed.excluded)
    return table


def _with_upstream_exclusions(table: RunTable, extra: pd.DataFrame) -> RunTable:
    """Append upstream entries that never were rows of the table to ``table.excluded`` (``row = -1``).

    RunTable has no public way to record rows dropped *before* read_table (e.g. the datablations
    notebook's dedup and unfinished entries, which have no N/D); this rebuilds the table through its
    pickling contract (``__reduce__``) with the extra excluded rows and an ``operations`` entry.
    """
    func, (frame, rows, meta, excluded) = table.__reduce__()
    extra = extra.copy()
    extra.insert(0, "reason", extra.pop("reason").astype(str))
    extra.insert(0, "code", "upstream")
    extra.insert(0, "row", np.full(len(extra), -1, dtype=np.int64))
    cols = list(excluded.columns) + [c for c in extra.columns if c not in excluded.columns]
    parts = [p.reindex(columns=cols) for p in (excluded, extra) if len(p)]
    merged = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    meta = dict(meta)
    meta["operations"] = tuple(meta.get("operations", ())) + (
        {"op": "upstream_exclusions", "n_excluded": len(extra),
         "reason": "entries of the source that are not runs of this table (row = -1)"},)
    return func(frame, rows, meta, merged)
