"""Names vulture (the dead-code finder CI runs over tagger/ and demo/) cannot see used, each with why.
Not imported by anything: vulture reads it as source. Run: vulture tagger demo app.py .ci/vulture_whitelist.py"""
# ruff: noqa

__getattr__, __dir__  # tagger/__init__.py: PEP 562 lazy names of the package
first_subtoken_labels  # tagger/align.py: the reference conversion the alignment tests check windows against
WRONG_KINDS  # tagger/analysis.py: public, the error kinds that pair a gold and a predicted entity
_.tag_set  # tagger/corpus.py Dataset: public, the tag set of a data set
_.detail  # tagger/errors.py DataError: public, the message without file and line
_.active_jobs  # demo/service/job_queue.py: the server side's view of every job (tests, load benchmarks)
_.started  # job and worker start times
_.__signature__  # read by inspect/Gradio on the bound handlers (demo/ui/plumbing.py)
_.__annotations__  # read by typing.get_type_hints/Gradio on the bound handlers
_.architectures  # tagger/bert.py: written into the Hugging Face config for transformers' Auto classes
_._attn_implementation  # tagger/onnx_backend.py: transformers' attention switch, set for the ONNX export
_.intra_op_num_threads  # onnxruntime session options
_.inter_op_num_threads
first_results, label_studio_config  # tagger/bulk.py, tagger/outputs.py: public, for the app and library users (tested)
_.is_sent_start, _.tag_  # spaCy token attributes that tagger/outputs.py DocBinWriter sets
