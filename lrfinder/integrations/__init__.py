"""Optional callbacks for training frameworks. Each module imports its framework only when its callback class is
first used, so this package imports cleanly without Lightning or transformers installed:

* :mod:`lrfinder.integrations.lightning`: ``LRFinderDiagnosticsCallback`` (PyTorch Lightning),
* :mod:`lrfinder.integrations.huggingface`: ``LRFinderDiagnosticsTrainerCallback`` (Hugging Face Trainer).
"""
