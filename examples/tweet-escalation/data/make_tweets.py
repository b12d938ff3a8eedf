"""Write `tweets.csv`: synthetic customer-support tweets to airlines and phone companies.

Each tweet is built from a complaint (or a thank-you, or a question) and a tone. A tweet
is labelled `escalate=1` when a human agent should pick it up now: a serious problem said
angrily, a threat to leave or complain to a regulator, a safety or money issue. A few
labels are flipped on purpose, as real triage labels are noisy. The seed is fixed, so
running this again writes the same file; the tests draw unseen tweets with another seed.

    python data/make_tweets.py            # rewrites data/tweets.csv
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

AIRLINES = ["@SkyJet", "@BlueWingAir", "@AeroNorth"]
TELECOMS = ["@TelNova", "@MobiLink", "@FiberCo"]

# (company kind, what happened) pairs, split by how serious the problem is.
SERIOUS = [
    ("airline", "my flight was cancelled and nobody can rebook me"),
    ("airline", "you lost my bag with my medication in it"),
    ("airline", "I have been stuck on the tarmac for four hours with no water"),
    ("airline", "I was charged twice for the same ticket"),
    ("airline", "the gate agent refused to board my kid and me"),
    ("airline", "my refund was denied after you cancelled the flight"),
    ("airline", "the crew ignored a passenger having a medical emergency"),
    ("airline", "my wheelchair came back broken"),
    ("telecom", "my internet has been down for three days and I work from home"),
    ("telecom", "you billed me for a phone I returned a month ago"),
    ("telecom", "my number was ported to someone else without my consent"),
    ("telecom", "someone opened an account in my name and you will not stop it"),
    ("telecom", "the outage cut off my elderly mother's emergency line"),
    ("telecom", "I was charged 400 dollars in roaming fees I never used"),
    ("telecom", "the technician never showed up for the third time"),
    ("telecom", "my service was cut off even though I paid the bill"),
]
MINOR = [
    ("airline", "the wifi on my flight was a bit slow"),
    ("airline", "my seat did not recline"),
    ("airline", "the snack options were limited today"),
    ("airline", "boarding started ten minutes late"),
    ("airline", "the app logged me out twice"),
    ("airline", "the entertainment screen froze for a while"),
    ("telecom", "the app takes a while to load my bill"),
    ("telecom", "my data felt slower than usual this morning"),
    ("telecom", "the hold music is really repetitive"),
    ("telecom", "the store did not have the phone case I wanted"),
    ("telecom", "the coverage map looks out of date"),
    ("telecom", "I got a promo text I did not need"),
]
PRAISE = [
    ("airline", "the crew on my flight were wonderful"),
    ("airline", "thanks for the smooth landing and the early arrival"),
    ("airline", "the upgrade made my day"),
    ("airline", "great service at the check-in desk this morning"),
    ("telecom", "thanks for fixing my router so quickly"),
    ("telecom", "the new plan saves me money every month"),
    ("telecom", "your support agent was patient and helpful"),
    ("telecom", "the 5G speed downtown is amazing"),
]
QUESTIONS = [
    ("airline", "what is the baggage allowance for international flights?"),
    ("airline", "can I change my seat after check-in?"),
    ("airline", "do you serve vegetarian meals on short flights?"),
    ("airline", "how early should I arrive for a domestic flight?"),
    ("telecom", "does the unlimited plan include hotspot data?"),
    ("telecom", "how do I set up voicemail on a new phone?"),
    ("telecom", "is fiber available in my area yet?"),
    ("telecom", "can I pause my plan while I travel?"),
]

ANGRY_OPENERS = [
    "Unacceptable.",
    "This is a disgrace!!",
    "I am furious.",
    "Absolutely ridiculous.",
    "Enough!",
    "Seriously??",
]
CALM_OPENERS = ["Hi,", "Hey", "Just a heads up,", "FYI", "Hello!", ""]
THREATS = {
    "airline": [
        "Never flying with you again.",
        "Filing a complaint with the DOT.",
        "I want a manager now.",
        "My lawyer will hear about this.",
        "Refund me or I go to the press.",
    ],
    "telecom": [
        "I am cancelling my contract.",
        "Filing a complaint with the FCC.",
        "I want a manager now.",
        "Switching to your competitor today.",
        "Fix it or I go to the press.",
    ],
}
SOFT_CLOSERS = ["no big deal", "just saying", "thanks anyway", "have a nice day", "cheers", ""]
HAPPY_CLOSERS = ["thank you!", "you rock", "keep it up", "5 stars", ":)", ""]
HASHTAGS = ["#fail", "#worstservice", "#help", "#travel", "#customerservice", "", "", ""]

FLIPPED_LABEL_RATE = 0.04


def company(kind: str, rng: random.Random) -> str:
    return rng.choice(AIRLINES if kind == "airline" else TELECOMS)


def with_closer(sentence: str, closer: str) -> str:
    return f"{sentence}, {closer}" if closer else f"{sentence}."


def one_tweet(rng: random.Random) -> tuple[str, int]:
    """A tweet and whether support should escalate it."""
    roll = rng.random()
    if roll < 0.45:
        kind, problem = rng.choice(SERIOUS)
        parts = [
            company(kind, rng),
            rng.choice(ANGRY_OPENERS + CALM_OPENERS[:2]),
            problem[:1].upper() + problem[1:] + ".",
        ]
        if rng.random() < 0.6:
            parts.append(rng.choice(THREATS[kind]))
        parts.append(rng.choice(HASHTAGS))
        escalate = 1
    elif roll < 0.7:
        kind, problem = rng.choice(MINOR)
        parts = [company(kind, rng), rng.choice(CALM_OPENERS), with_closer(problem, rng.choice(SOFT_CLOSERS))]
        escalate = 0
    elif roll < 0.85:
        kind, praise = rng.choice(PRAISE)
        parts = [company(kind, rng), rng.choice(CALM_OPENERS), with_closer(praise, rng.choice(HAPPY_CLOSERS))]
        escalate = 0
    else:
        kind, question = rng.choice(QUESTIONS)
        parts = [company(kind, rng), rng.choice(CALM_OPENERS), question]
        escalate = 0
    if rng.random() < FLIPPED_LABEL_RATE:
        escalate = 1 - escalate
    return " ".join(part for part in parts if part), escalate


def make_tweets(count: int, seed: int) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    return [one_tweet(rng) for _ in range(count)]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("tweets.csv")
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "escalate"])
        writer.writerows(make_tweets(count=400, seed=2015))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
