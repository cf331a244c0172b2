"""Published constants typed from papers, and the synthetic demo sweep (installed as ``scaling._published``)."""
