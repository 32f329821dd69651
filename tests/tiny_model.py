"""Build a tiny RoBERTa emotion classifier and BPE tokenizer on the spot (no downloads)."""

from __future__ import annotations

import shutil
from pathlib import Path

J_HARTMANN_LABELS = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]

CORPUS = [
    "I can't believe we won the game tonight!",
    "I miss her so much it hurts.",
    "This is disgusting, take it away.",
    "I am terrified of what comes next.",
    "Wow, I did not expect that at all!",
    "The meeting is at three o'clock.",
    "Stop lying to me, I am furious.",
    "What a wonderful, happy day with friends.",
    "Nothing much happened today.",
    "I'm scared and alone in the dark.",
    "Das ist großartig! 🎉 これは素晴らしい。 ¡Qué sorpresa! Привет мир.",
]


def build_tiny_model(folder: Path, labels: list[str] | None = None, seed: int = 0) -> Path:
    """Write a tiny RoBERTa sequence classifier with a trained BPE tokenizer to ``folder``.

    The model has random weights (seeded), 7 labels by default (those of
    j-hartmann/emotion-english-distilroberta-base) and 514 positions, like the real one.
    """
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import (
        RobertaConfig,
        RobertaForSequenceClassification,
        RobertaTokenizerFast,
    )

    labels = labels or J_HARTMANN_LABELS
    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        CORPUS * 5,
        vocab_size=400,
        min_frequency=1,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        show_progress=False,
    )
    tok_dir = folder / "_bpe"
    tok_dir.mkdir(exist_ok=True)
    bpe.save_model(str(tok_dir))
    tokenizer = RobertaTokenizerFast(
        vocab=str(tok_dir / "vocab.json"),
        merges=str(tok_dir / "merges.txt"),
        model_max_length=512,
    )
    shutil.rmtree(tok_dir)
    torch.manual_seed(seed)
    config = RobertaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=514,
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = RobertaForSequenceClassification(config)
    with torch.no_grad():  # make the classes clearly distinct so tests see a spread
        model.classifier.out_proj.weight.mul_(40.0)
    model.eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


if __name__ == "__main__":
    import sys

    print(build_tiny_model(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-model")))
