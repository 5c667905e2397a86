"""A watch learns from its people's corrections: the model's three class offsets, fitted to the watch's
corrections (offsets.py), cross-validated on them (validation.py), guarded by the multi-domain dev set
(dev_check.py), decided by one rule (decide.py), stored, activated and re-scored (run.py), and said in
words (describe.py). The calibrations are kept in monitor/store/calibrations.py; scoring applies them
(monitor/score/run.py)."""
