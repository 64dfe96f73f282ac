"""The Gradio web app (UI only; the work is done by ``tagger``). Build it with
``demo.app.build_app``; ``app.py`` at the repository root launches it.

Kept import-free so the training worker process (spawned) does not import Gradio."""
