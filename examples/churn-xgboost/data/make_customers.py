"""Write `customers.csv`: synthetic phone-plan customers and whether they left (churned).

Columns: plan, contract, payment_method (categories), tenure_months, monthly_charges,
support_calls, data_gb (numbers), churn (1 left, 0 stayed). Whether a customer leaves is
drawn from a logistic model of their record: short month-to-month contracts, many
support calls, high charges and paying by electronic check make leaving likely; long
contracts and tenure make staying likely. The draw keeps the labels noisy, as real churn
is. The seed is fixed, so running this again writes the same file; the tests draw unseen
customers with another seed.

    python data/make_customers.py         # rewrites data/customers.csv
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

PLANS = {"basic": 0.3, "standard": 0.0, "premium": -0.5}
CONTRACTS = {"month-to-month": 1.6, "one-year": -0.3, "two-year": -1.8}
PAYMENT_METHODS = {"electronic-check": 0.7, "card": -0.1, "bank-transfer": -0.3}
FIELDS = ["plan", "contract", "payment_method", "tenure_months", "monthly_charges", "support_calls", "data_gb"]


def one_customer(rng: random.Random) -> dict:
    plan = rng.choices(list(PLANS), weights=[4, 4, 2])[0]
    contract = rng.choices(list(CONTRACTS), weights=[5, 3, 2])[0]
    payment = rng.choice(list(PAYMENT_METHODS))
    tenure = rng.randint(1, 72)
    charges = round(max(10.0, {"basic": 30, "standard": 60, "premium": 95}[plan] + rng.gauss(0, 12)), 2)
    calls = min(10, int(rng.expovariate(0.6)))
    data_gb = round(max(0.0, rng.gauss({"basic": 5, "standard": 15, "premium": 35}[plan], 6)), 1)
    logit = (
        -0.4
        + PLANS[plan]
        + CONTRACTS[contract]
        + PAYMENT_METHODS[payment]
        - 0.05 * tenure
        + 0.03 * (charges - 60)
        + 0.55 * calls
        - 0.02 * data_gb
    )
    churn = int(rng.random() < 1 / (1 + math.exp(-2.0 * logit)))
    return {
        "plan": plan,
        "contract": contract,
        "payment_method": payment,
        "tenure_months": tenure,
        "monthly_charges": charges,
        "support_calls": calls,
        "data_gb": data_gb,
        "churn": churn,
    }


def make_customers(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [one_customer(rng) for _ in range(count)]


def main() -> None:
    out = Path(__file__).with_name("customers.csv")
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*FIELDS, "churn"])
        writer.writeheader()
        writer.writerows(make_customers(count=1500, seed=2024))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
