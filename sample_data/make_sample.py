#!/usr/bin/env python3
"""Regenerate the synthetic sample data (deterministic: same seed, same files).

The förbund is fictional; every personnummer is synthetic (random birth date
and serial with a valid check digit) and stands for nobody. Run from this
folder: python3 make_sample.py
"""
import datetime as dt
import random

rng = random.Random(2021)

INTERVENTIONS = [
    # code, name, parent, kind, target work/studies, step, quality of life (percent)
    ("VAGEN", "ESF-projektet Vägen vidare", "", "individual", "40", "60", "50"),
    ("VAGEN-UNG", "Vägen vidare – unga vuxna", "VAGEN", "individual", "", "", ""),
    ("VAGEN-NY", "Vägen vidare – nyanlända", "VAGEN", "individual", "", "", ""),
    ("VAGEN-SJUK", "Vägen vidare – långtidssjukskrivna", "VAGEN", "individual", "", "", ""),
    ("ARBTEAM", "Arbetsrehabiliteringsteamet", "", "individual", "40", "50", ""),
    ("HALSA", "Hälsostöd i vardagen", "", "individual", "30", "50", "60"),
    ("FRAMTID", "Framtidsverkstaden (öppen verksamhet)", "", "volume", "", "", ""),
]

MUNICIPALITIES = [("Vänersborg", 45), ("Trollhättan", 30), ("Mellerud", 15), ("Dals-Ed", 10)]
# Per intervention: (age range, support weights, outcome weights, months range, share to exit)
PROFILES = {
    "VAGEN-UNG": ((16, 29), {"social_assistance": 40, "activity_support": 25, "none": 15, "activity_compensation": 10, "unknown": 10},
                  {"work": 25, "studies": 20, "job_seeking": 20, "other_vocational": 10, "dropout": 15, "moved": 5, "other": 5}, (2, 14)),
    "VAGEN-NY": ((20, 55), {"establishment": 50, "social_assistance": 35, "activity_support": 10, "other": 5},
                 {"work": 30, "studies": 15, "job_seeking": 25, "other_vocational": 15, "dropout": 10, "parental_leave": 5}, (3, 18)),
    "VAGEN-SJUK": ((30, 64), {"sickness_benefit": 45, "rehab_benefit": 15, "sickness_compensation": 15, "social_assistance": 20, "unknown": 5},
                   {"work": 20, "medical_rehab": 25, "sickness_compensation": 15, "job_seeking": 15, "other_vocational": 15, "dropout": 10}, (4, 24)),
    "ARBTEAM": ((20, 64), {"social_assistance": 35, "sickness_benefit": 20, "unemployment_benefit": 15, "activity_support": 20, "none": 10},
                {"work": 25, "studies": 8, "job_seeking": 25, "other_vocational": 20, "medical_rehab": 10, "dropout": 12}, (2, 20)),
    "HALSA": ((25, 70), {"sickness_benefit": 40, "sickness_compensation": 20, "social_assistance": 25, "wage": 10, "unknown": 5},
              {"work": 15, "medical_rehab": 35, "other_vocational": 20, "sickness_compensation": 10, "dropout": 15, "other": 5}, (1, 12)),
}
COUNTS = {"VAGEN-UNG": 40, "VAGEN-NY": 30, "VAGEN-SJUK": 30, "ARBTEAM": 55, "HALSA": 45}
YEARS = {"0-1": 20, "1-3": 30, "3-6": 20, "6-9": 10, "9+": 12, "na": 8}
EDUCATION = {"compulsory": 35, "upper_secondary": 40, "post_secondary": 15, "none_or_unknown": 10}
REFERRER = {"af": 30, "fk": 20, "municipality": 30, "region": 12, "self": 8}
AFTER = {"wage": 0, "student_finance": 0}  # filled per outcome below

FIRST, LAST = dt.date(2019, 1, 7), dt.date(2021, 11, 30)
END = dt.date(2021, 12, 31)


def pick(weights):
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


def luhn(nine):
    total = 0
    for i, ch in enumerate(nine):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        total += v // 10 + v % 10
    return (10 - total % 10) % 10


def pnr(birth, woman):
    serial = rng.randrange(0, 100) * 10 + rng.choice([0, 2, 4, 6, 8] if woman else [1, 3, 5, 7, 9])
    nine = birth.strftime("%y%m%d") + f"{serial:03d}"
    return birth.strftime("%Y%m%d") + "-" + nine[6:] + str(luhn(nine))


def support_after(outcome, before):
    return {
        "work": "wage", "studies": "student_finance", "job_seeking": pick({"unemployment_benefit": 40, "activity_support": 40, "social_assistance": 20}),
        "sickness_compensation": "sickness_compensation", "medical_rehab": pick({"sickness_benefit": 60, "rehab_benefit": 20, before: 20}),
        "parental_leave": "other", "moved": "unknown",
    }.get(outcome, before)


events = []  # (date, order, row)
people = []
for code, n in COUNTS.items():
    (lo, hi), supports, outcomes, (mlo, mhi) = PROFILES[code]
    for k in range(n):
        woman = rng.random() < (0.62 if code != "VAGEN-UNG" else 0.5)
        start = FIRST + dt.timedelta(days=rng.randrange((LAST - FIRST).days))
        age = rng.randint(lo, hi)
        birth = dt.date(start.year - age, rng.randint(1, 12), rng.randint(1, 28))
        anonymous = rng.random() < 0.06
        ident = {"pnr": pnr(birth, woman), "consent": "yes"} if not anonymous else {
            "local_id": f"{code[:2]}-{len(events) + 101}", "gender": "K" if woman else "M",
            "birth_year": str(birth.year) if rng.random() < 0.7 else ""}
        before = pick(supports)
        start_row = dict(event="start", intervention=code, date=start.isoformat(),
                         municipality=pick(dict(MUNICIPALITIES)), support=before, years_in_support=pick(YEARS),
                         education=pick(EDUCATION), referrer=pick(REFERRER), **ident)
        events.append((start, 0, start_row))
        people.append((ident, start, code, woman, birth))
        months = rng.randint(mlo, mhi)
        exit_ = start + dt.timedelta(days=int(months * 30.4375) - rng.randint(0, 20))
        if exit_ <= END and rng.random() < 0.92:
            outcome = pick(outcomes)
            exit_ident = {k: v for k, v in ident.items() if k in ("pnr", "local_id")}
            events.append((exit_, 1, dict(event="exit", intervention=code, date=exit_.isoformat(), outcome=outcome,
                                          support_after=support_after(outcome, before),
                                          step_progress=pick({"yes": 55, "no": 35, "unknown": 10}),
                                          quality_of_life=pick({"improved": 50, "unchanged": 30, "worse": 8, "unknown": 12}),
                                          **exit_ident)))
            # A few come back to the same intervention later, or go on to HALSA.
            if "pnr" in ident and rng.random() < 0.08:
                again = exit_ + dt.timedelta(days=rng.randint(30, 200))
                target = code if rng.random() < 0.5 else ("HALSA" if code != "HALSA" else "ARBTEAM")
                if again <= LAST:
                    events.append((again, 0, dict(event="start", intervention=target, date=again.isoformat(),
                                                  municipality=start_row["municipality"], support=support_after(outcome, before),
                                                  years_in_support=pick(YEARS), education=start_row["education"],
                                                  referrer=pick(REFERRER), **ident)))

events.sort(key=lambda e: (e[0], e[1]))
COLUMNS = ["event", "intervention", "pnr", "consent", "local_id", "gender", "birth_year", "date", "municipality", "support",
           "years_in_support", "education", "referrer", "outcome", "support_after", "step_progress", "quality_of_life"]
with open("registrations.csv", "w", encoding="utf-8", newline="") as f:
    f.write(",".join(COLUMNS) + "\n")
    for _, _, row in events:
        f.write(",".join(row.get(c, "") for c in COLUMNS) + "\n")

with open("interventions.csv", "w", encoding="utf-8", newline="") as f:
    f.write("code,name,parent,kind,target_work_studies,target_step,target_qol\n")
    for row in INTERVENTIONS:
        f.write(",".join(row) + "\n")

with open("volume.csv", "w", encoding="utf-8", newline="") as f:
    f.write("intervention,month,women,men\n")
    for year in (2020, 2021):
        for month in range(1, 13):
            f.write(f"FRAMTID,{year}-{month:02d},{rng.randint(8, 25)},{rng.randint(4, 15)}\n")
print(f"{sum(1 for e in events if e[2]['event'] == 'start')} starts, {sum(1 for e in events if e[2]['event'] == 'exit')} exits")
