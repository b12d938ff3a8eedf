"""BlazingText supervised training under SageMaker's training contract (a stand-in, not fastText).

A TF-IDF of word n-grams (scikit-learn) feeds a linear classifier trained by SGD on the log
loss, one pass per epoch with the step decaying linearly from `learning_rate` to zero, as
fastText's does. Honoured hyperparameters: `mode` (required; only `supervised` is emulated,
the Word2Vec modes fail clearly), `epochs`, `learning_rate`, `word_ngrams`, `min_count`,
`early_stopping`, `patience`, `min_epochs`. `vector_dim` and `buckets` are accepted with a
warning: the stand-in has no embeddings and counts n-grams exactly.

Data: `train` (and optional `validation`) channels with one sentence per line and its labels as
`__label__<name>` words (`__label__1 the movie was great .`), UTF-8. A line with several labels
is trained on its first one.

Log lines, as the real algorithm prints them:
    #train_accuracy: 0.9891
    Number of train examples: 1000
    #validation_accuracy: 0.8725
    Number of validation examples: 200
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np

from orchestrator.targets.local.algorithms._contract import (
    DEFAULT_SEED,
    REQUIRED,
    HyperparameterSpec,
    Param,
    TrainingJob,
    boolean,
    fail,
    integer,
    number,
    run,
    text,
)
from orchestrator.targets.local.algorithms._tabular import data_files
from orchestrator.targets.local.algorithms.blazingtext.model import MODEL_FILE, TextClassifier
from orchestrator.targets.local.algorithms.blazingtext.text import WordNgrams, split_labelled_line

WORD2VEC_ONLY = "a Word2Vec hyperparameter, unused by supervised mode"

SPEC = HyperparameterSpec(
    algorithm="blazingtext",
    params={
        "mode": Param(text, REQUIRED, choices=("supervised", "cbow", "skipgram", "batch_skipgram")),
        "epochs": Param(integer, 5, minimum=1),
        "learning_rate": Param(number, 0.05, minimum=0),
        "word_ngrams": Param(integer, 2, minimum=1),
        "min_count": Param(integer, 5, minimum=0),
        "early_stopping": Param(boolean, False),
        "patience": Param(integer, 4, minimum=1),
        "min_epochs": Param(integer, 5, minimum=1),
    },
    ignored={
        "vector_dim": "the stand-in classifies TF-IDF n-grams directly and learns no embeddings",
        "buckets": "word n-grams are counted exactly, not hashed into buckets",
        **dict.fromkeys(
            (
                "batch_size",
                "evaluation",
                "min_char",
                "max_char",
                "negative_samples",
                "sampling_threshold",
                "subwords",
                "window_size",
            ),
            WORD2VEC_ONLY,
        ),
    },
)


def read_labelled_sentences(channel: Path, job: TrainingJob) -> tuple[list[str], list[str]]:
    sentences, labels, unlabelled, multi = [], [], 0, 0
    for path in data_files(channel):
        try:
            content = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            fail(f"{path.name} is not UTF-8 text: {exc}")
        for line in content.splitlines():
            if not line.strip():
                continue
            line_labels, sentence = split_labelled_line(line)
            if not line_labels:
                unlabelled += 1
                continue
            multi += len(line_labels) > 1
            labels.append(line_labels[0])
            sentences.append(sentence)
    if unlabelled:
        job.log.warning(f"{unlabelled} line(s) of channel {channel.name} have no __label__ word and were skipped")
    if multi:
        job.log.warning(
            f"{multi} line(s) of channel {channel.name} have several labels: "
            "the local stand-in trains on the first label of each"
        )
    if not sentences:
        fail(f"channel {channel.name} has no lines of the form '__label__<name> <sentence>'")
    return sentences, labels


def train(job: TrainingJob) -> None:
    hps = job.hyperparameters(SPEC)
    if hps["mode"] != "supervised":
        fail(
            f"mode {hps['mode']} (Word2Vec) is not emulated by the local BlazingText; only mode=supervised "
            "runs locally. Use the aws target for word embeddings."
        )
    from sklearn.feature_extraction.text import (
        TfidfVectorizer,  # imported late: a job that fails early stays quick
    )
    from sklearn.linear_model import SGDClassifier

    sentences, labels = read_labelled_sentences(job.channel("train", required=True), job)
    validation_channel = job.channel("validation")
    validation = read_labelled_sentences(validation_channel, job) if validation_channel else None
    classes = np.asarray(sorted(set(labels)))
    if len(classes) < 2:
        fail(f"supervised mode needs at least two labels; the train channel has only {classes[0]}")

    vectorizer = TfidfVectorizer(analyzer=WordNgrams.fitted(sentences, hps["word_ngrams"], hps["min_count"]))
    features = vectorizer.fit_transform(sentences)
    targets = np.asarray(labels)
    estimator = SGDClassifier(
        loss="log_loss",
        penalty=None,
        learning_rate="constant",
        eta0=max(hps["learning_rate"], 1e-12),
        random_state=DEFAULT_SEED,
    )
    model = TextClassifier(vectorizer, estimator)
    rng = np.random.default_rng(DEFAULT_SEED)
    best, stale = -1.0, 0
    for epoch in range(hps["epochs"]):
        # fastText's step decays linearly to zero over the run; this takes one step size per epoch
        estimator.eta0 = max(hps["learning_rate"] * (1 - epoch / hps["epochs"]), 1e-12)
        order = rng.permutation(len(targets))
        estimator.partial_fit(features[order], targets[order], classes=classes)
        if validation and hps["early_stopping"]:
            score = model.accuracy(*validation)
            best, stale = (score, 0) if score > best else (best, stale + 1)
            if epoch + 1 >= hps["min_epochs"] and stale >= hps["patience"]:
                job.log.info(f"early stopping after epoch {epoch + 1}: validation accuracy stopped improving")
                break

    job.log.info(f"#train_accuracy: {model.accuracy(sentences, labels):.4f}")
    job.log.info(f"Number of train examples: {len(labels)}")
    if validation:
        job.log.info(f"#validation_accuracy: {model.accuracy(*validation):.4f}")
        job.log.info(f"Number of validation examples: {len(validation[1])}")
    job.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, job.model_dir / MODEL_FILE)
    job.write_marker("blazingtext", mode="supervised", labels=[str(label) for label in classes])


if __name__ == "__main__":
    run(train)
