"""The app's service layer: no Gradio, testable with plain pytest (``import-linter`` keeps it so).

- ``settings.py``     :class:`AppSettings` from the environment and the command line.
- ``owners.py``       who owns a run or a job, and who may see or change it.
- ``runs.py``         the runs (trained models) on disk: listed, renamed, deleted, zipped, capped.
- ``registry.py``     the models a caller may tag with, by name (default, runs, ``--models-dir``).
- ``job_queue.py``    training jobs as server-side objects: a first-in first-out queue.
- ``worker.py``       the training worker process (one job, then exit; cancel escalates).
- ``progress.py``     training events -> status lines, plot points, progress fraction.
- ``uploads.py``      uploaded training files -> data report and label-column choices.
- ``app_context.py``  :class:`AppContext`: all of the above, shared by the handlers.
- ``text.py``         escaping user text for Markdown and messages.
"""
