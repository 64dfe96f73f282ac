"""The Gradio web app on top of the library (``tagger``), in two layers:

- :mod:`demo.service`: what the app does, with no Gradio: settings, owners, runs on disk, the model
  registry, the training job queue and its worker process, progress events, uploads.
- :mod:`demo.ui`: the page: one module per tab (handlers + layout), rendering, the owner token in
  the browser. ``demo.ui.app.build_app`` builds it; ``app.py`` at the repository root (and
  ``tagger app``) launch it through :mod:`demo.launch`.

Kept import-free so the training worker process (spawned) does not import Gradio.
"""
