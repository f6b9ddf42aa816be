#!/usr/bin/env python3
"""Writes a deterministic synthetic HTCDS 2.0 CSV (header of HTCDS field names, one survivor and
case per row). Every value is invented. Usage: gen_htcds.py ROWS SEED OUT.csv"""
import csv
import random
import sys

FIRST = ["Ana", "Luz", "Marisol", "Rosa", "Yesenia", "Daniela", "Esperanza", "Ines", "Josue", "Kevin",
         "Mateo", "Nia", "Priya", "Tran", "Olena", "Amina", "Fatima", "Dmytro", "Grace", "Ngozi"]
LAST = ["Alvarez", "Baptiste", "Castillo", "Dlamini", "Escobar", "Fofana", "Gutierrez", "Hernandez",
        "Ibarra", "Juarez", "Kovalenko", "Lopez", "Mensah", "Nguyen", "Okafor", "Petrenko"]
GENDER = ["Feminine", "Masculine", "TransgenderFeminine", "TransgenderMasculine", "NonConforming",
          "NonSpecifiedUnknown"]
COUNTRIES = ["MX", "GT", "HN", "SV", "PH", "UA", "NG", "VN", "IN", "RO"]
CITIES = ["Springfield", "Riverton", "Lakeside", "Fairview", "Georgetown", "Salem", "Madison", "Clinton"]
TSTATUS = ["PossibleVictimOfTrafficking", "ActualVictimOfTrafficking", "NotAVictimOfTrafficking"]
EXPLOIT = ["ForcedLabour", "SexualExploitation", "ChildLabour", "ForcedMarriage", "Servitude",
           "ForcedBegging", "Other"]
CONTROL = ["PhysicalThreats", "ThreatsLawEnforcement", "ThreatensChildrenFamily", "DebtBondage",
           "FalsePromises", "TakesEarnings", "WithholdsDocuments", "PsychologicalAbuse"]
CSTATUS = ["Active", "Active", "FollowUp", "Closed", "ClosedReferred"]

HEADER = ["prs_FirstName", "prs_SecondName", "prs_Birthdate", "prs_Gender", "prs_Citizenship",
          "prs_MobilePhone", "prs_Email", "prs_MailingCity", "vic_TraffickingStatus",
          "vic_TypeOfExploitation", "vic_MethodsOfControl", "cas_Status", "cas_IncomingReferralDate"]


def main():
    rows, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            w.writerow([
                first,
                last,
                f"{rng.randint(1960, 2007):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                rng.choice(GENDER),
                ";".join(sorted(set(rng.sample(COUNTRIES, rng.randint(1, 2))))),
                f"555-{rng.randint(100, 999):03d}-{rng.randint(0, 9999):04d}",
                f"{first.lower()}.{last.lower()}{i}@example.org",
                rng.choice(CITIES),
                rng.choice(TSTATUS),
                ";".join(rng.sample(EXPLOIT, rng.randint(1, 2))),
                ";".join(rng.sample(CONTROL, rng.randint(1, 3))),
                rng.choice(CSTATUS),
                f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            ])


if __name__ == "__main__":
    main()
