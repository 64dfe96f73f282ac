"""The app's command line: ``tagger app [options]`` and ``python app.py [options]`` (Spaces).

    tagger app                          # http://127.0.0.1:7860
    tagger app --models-dir runs        # also offer every model folder under runs/
    tagger app --share                  # public Gradio link

GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are honoured as in Gradio (Spaces sets them);
see demo/settings.py for the TAGGER_* variables (models folder, bases, queue size, ...).
Module level stays light (argparse only): the training worker is a spawned process.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog, description="BERT tagger web app")
    p.add_argument("--share", action="store_true", help="create a public Gradio share link")
    p.add_argument("--models-dir", action="append", type=Path, default=[], metavar="DIR",
                   help="offer every model folder under DIR in the Tag tab (repeatable)")
    p.add_argument("--default-model", type=Path, help="the default tagger (default: TAGGER_DEFAULT_MODEL, the installed "
                   "package data, or models/default)")
    p.add_argument("--app-models-dir", type=Path, help="where app-trained models are kept (default: TAGGER_MODELS_DIR "
                   "or ~/.cache/bert-tagger/models)")
    p.add_argument("--base", action="append", default=[], metavar="LABEL=BASE",
                   help="a base model offered for fine-tuning (repeatable; default: the packaged MiniLM)")
    p.add_argument("--host", help="interface to bind (default: GRADIO_SERVER_NAME or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: GRADIO_SERVER_PORT or 7860)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    args = parse_args(argv, prog)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Tagging in the app process uses TAGGER_TAG_THREADS torch threads (default 1; set before torch
    # is imported): on a small machine shared with the training worker, a second inference thread
    # mostly waits for a busy core and makes each request slower. The training worker sets its
    # own thread count (TAGGER_TRAIN_THREADS, default all cores).
    os.environ.setdefault("OMP_NUM_THREADS", os.environ.get("TAGGER_TAG_THREADS", "1"))
    from .service.settings import AppSettings, parse_bases
    from .ui.app import build_app, launch_kwargs

    settings = AppSettings.from_env(
        default_model=args.default_model,
        models_dirs=args.models_dir or None,
        app_models_dir=args.app_models_dir,
        bases=parse_bases(";".join(args.base)) if args.base else None,
    )
    blocks, ctx = build_app(settings)
    try:
        blocks.launch(server_name=args.host, server_port=args.port, share=args.share, **launch_kwargs())
    finally:
        ctx.close()
