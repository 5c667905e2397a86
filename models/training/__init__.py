"""Training and evaluation of Grumble's model: the data mix, training, calibration, metrics, evaluation.

    python -m models.training.train      # fine-tune (see train.py)
    python -m models.training.evaluate   # every dev split side by side

Needs the `train` extra (pip install -e ".[train]"). Nothing at run time imports this package: the
monitor and the dashboard only load and run models (models, models.backends).
"""
