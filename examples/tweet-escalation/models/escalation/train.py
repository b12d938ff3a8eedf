"""Train the tweet escalation classifier under SageMaker's script-mode contract.

TF-IDF over words and word pairs, then a logistic regression. Tokens are runs of
ASCII letters and digits, lower-cased: exactly the words a python-slugify slug keeps,
so a tweet scores the same whether it arrives as raw text or as the API's
`my-flight-was-cancelled` path. Prints `accuracy=` and `f1=` on a held-out split.
"""

import argparse
import csv
import os
from pathlib import Path

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

SLUG_WORDS = r"[a-z0-9]{2,}"


def load_tweets(channel_dir: str) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for path in sorted(Path(channel_dir).glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                texts.append(row["text"])
                labels.append(int(row["escalate"]))
    if not texts:
        raise SystemExit(f"no tweets found: expected CSV files with text,escalate columns in {channel_dir}")
    return texts, labels


def build_model(C: float, max_features: int):
    vectorizer = TfidfVectorizer(
        lowercase=True,
        strip_accents="ascii",
        token_pattern=SLUG_WORDS,
        ngram_range=(1, 2),
        sublinear_tf=True,
        max_features=max_features,
    )
    return make_pipeline(vectorizer, LogisticRegression(C=C, max_iter=1000, class_weight="balanced"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, default=4.0)
    parser.add_argument("--max-features", "--max_features", dest="max_features", type=int, default=5000)
    parser.add_argument("--test-fraction", type=float, default=0.25)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "data"))
    args, _ = parser.parse_known_args()

    texts, labels = load_tweets(args.train)
    x_train, x_test, y_train, y_test = train_test_split(
        texts, labels, test_size=args.test_fraction, random_state=11, stratify=labels
    )
    held_out = build_model(args.C, args.max_features).fit(x_train, y_train)
    predicted = held_out.predict(x_test)
    print(f"trained on {len(x_train)} tweets, tested on {len(x_test)}")
    print(f"accuracy={accuracy_score(y_test, predicted):.4f}")
    print(f"f1={f1_score(y_test, predicted):.4f}")

    # The served model learns from every tweet; the split above only measured the recipe.
    model = build_model(args.C, args.max_features).fit(texts, labels)
    joblib.dump(model, Path(args.model_dir) / "model.joblib")


if __name__ == "__main__":
    main()
