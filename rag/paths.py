"""Where the project's shipped files live: the trained models and the training questions."""

from pathlib import Path

#: The project folder (the one holding `rag/`, `models/` and `training/`).
PROJECT = Path(__file__).resolve().parent.parent
#: The models trained here and shipped with the code.
MODELS = PROJECT / "models"
