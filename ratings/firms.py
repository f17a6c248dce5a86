"""Research firms' names: spelling variants merged into one firm, only by the documented list below.

Yahoo names the same research desk in several ways over the years: a rename after a takeover
("Cowen & Co." became "TD Cowen" in 2023), a brand spelled two ways ("Nomura" and "Nomura Instinet" on
the same AAPL coverage in 2017-2020), a typing slip ("BGC FInancial"). A firm's track record must
follow its desk, and a firm's next action on a ticker closes its previous call, so these are merged.

The rules:

* Two names that differ only in case or spacing are one name ("MORGAN STANLEY", "Morgan Stanley").
* Otherwise names are merged only when :data:`FIRM_ALIASES` lists them: each entry is a rename of one
  research desk (the year and what happened in the comment beside it), checked against the bundled
  actions (the old name's coverage stops where the new one's starts).
* Not merged, although related: two desks that were combined after years side by side (Credit Suisse
  and UBS, FBR Capital and B. Riley, Hilliard Lyons and Baird, Sterne Agee and Stifel or CRT Capital),
  and Pacific Crest and KeyBanc, which both rated AMZN in 2016-2017.
"""

from __future__ import annotations

import pandas as pd

#: One firm's name as shown, and the other names the same desk has had.
FIRM_ALIASES: dict[str, tuple[str, ...]] = {
    "Morgan Stanley": ("Morgan Stanley & Co", "Morgan Stanley & Co.", "Morgan Stanley & Co. LLC"),
    "TD Cowen": ("Cowen & Co.", "Cowen & Co", "Cowen", "Cowen and Company"),  # TD bought Cowen, 2023
    "Evercore ISI Group": ("ISI Group", "Evercore ISI", "Evercore"),  # Evercore took over ISI's desk, 2014
    "Leerink Partners": ("Leerink Swann", "SVB Leerink", "SVB Securities"),  # SVB's from 2019 to 2023
    "Truist Securities": ("SunTrust Robinson Humphrey", "SunTrust"),  # SunTrust and BB&T became Truist, 2020
    "Nomura": ("Nomura Instinet", "Instinet"),  # one desk, both names on AAPL in 2017-2020
    "Redburn Atlantic": ("Redburn Partners", "Redburn"),  # Redburn with Rothschild & Co's desk, 2023
    "Roth MKM": ("MKM Partners",),  # Roth bought MKM, 2023: its AMZN and GOOG coverage carries on
    "B of A Securities": ("BofA Securities", "BofA Merrill Lynch", "Merrill Lynch", "Bank of America"),
    "JP Morgan": ("J.P. Morgan", "JPMorgan", "JPMorgan Chase & Co."),
    "Goldman Sachs": ("Goldman Sachs & Co", "Goldman Sachs & Co."),
    "Piper Sandler": ("Piper Jaffray",),  # renamed 2020
    "Exane BNP Paribas": ("BNP Paribas Exane",),  # renamed 2022
    "Bernstein": ("Sanford C. Bernstein", "Sanford Bernstein"),
    "RBC Capital": ("RBC Capital Markets",),
    "BMO Capital": ("BMO Capital Markets",),
    "Keybanc": ("KeyBanc Capital Markets",),
    "Wells Fargo": ("Wells Fargo Securities",),
    "Baird": ("Robert W. Baird",),
    "BGC Financial": (),  # Yahoo writes "BGC FInancial": the same words, another case
}


def name_key(name: str) -> str:
    """The form a firm's name is matched in: case folded, runs of spaces as one."""
    return " ".join(name.split()).casefold()


_CANONICAL: dict[str, str] = {
    name_key(variant): firm for firm, variants in FIRM_ALIASES.items() for variant in (firm, *variants)
}


def canonical_firms(names: pd.Series) -> pd.Series:
    """Each firm's one name: its :data:`FIRM_ALIASES` entry, else its most frequent spelling among
    `names` that differ only in case or spacing (ties: the first in alphabetical order); <NA> stays <NA>."""
    text = names.astype("string")
    # Worked out once per distinct spelling (a few hundred), then mapped onto every row.
    counted = text.value_counts().rename_axis("name").reset_index(name="n")
    counted["key"] = counted["name"].str.split().str.join(" ").str.casefold()
    counted = counted.sort_values(["key", "n", "name"], ascending=[True, False, True], kind="stable")
    most_used = counted.drop_duplicates("key").set_index("key")["name"]
    chosen = counted["key"].map(_CANONICAL).fillna(counted["key"].map(most_used))
    return text.map(dict(zip(counted["name"], chosen, strict=True))).astype("string")


def alias_table() -> pd.DataFrame:
    """The list as rows (firm, also written), for the Methodology page."""
    rows = [(firm, ", ".join(variants) or "(its case only)") for firm, variants in FIRM_ALIASES.items()]
    return pd.DataFrame(rows, columns=["firm", "also_written"]).astype("string")
