"""Display wording, defined once: money, counts, rule names and status words as every screen and report says them."""

from __future__ import annotations

RULE_NAMES = {"pro_rata": "pro rata", "priority": "priority tiers", "optimal": "optimal", "greedy": "greedy"}
RULE_LABELS = {  # the longer form a chooser shows
    "pro_rata": "Pro rata (one factor for every carrier)",
    "priority": "Priority tiers (47 CFR 1.50004)",
    "optimal": "Optimal (chosen by the optimiser)",
    "greedy": "Greedy (people per dollar, no solver)",
}
RULE_WORDS = {  # the phrase a sentence uses: "a $1.90B fund allocated pro rata"
    "pro_rata": "allocated pro rata",
    "priority": "allocated by priority tier",
    "optimal": "allocated to minimise exposure",
    "greedy": "allocated greedily",
}
STATUS_WORDS = {  # a plan's status, in a sentence
    "optimal": "proven optimal within the requested gap",
    "feasible": "a valid plan; the time limit stopped the solver before it proved every carrier within the gap",
    "heuristic": "a valid plan from list scheduling; no optimality is claimed",
    "trivial": "nothing to decide",
}
STATUS_LABELS = {  # a plan's status, as a short label
    "optimal": "optimal within the gap tolerance",
    "feasible": "feasible (time limit reached)",
    "heuristic": "heuristic (no solver bound)",
    "trivial": "nothing to decide",
}


def rule_name(rule: str) -> str:
    return RULE_NAMES.get(rule, rule)


def rule_words(rule: str) -> str:
    return RULE_WORDS.get(rule, f"allocated by the {rule} rule")


def usd(amount: float) -> str:
    """$1.90B, $12.3M, $450K: the way a policy reader writes money."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if amount >= size:
            return f"{sign}${amount / size:,.2f}{suffix}" if size == 1e9 else f"{sign}${amount / size:,.1f}{suffix}"
    return f"{sign}${amount:,.0f}"


def usd_exact(amount: float) -> str:
    """$1,895,000,000: whole dollars, for figures a reviewer quotes."""
    return f"{'-' if amount < 0 else ''}${abs(round(amount)):,.0f}"


def people(count: float) -> str:
    """12,345 people."""
    return f"{int(round(count)):,} people"


def person_months(count: float) -> str:
    """12.3M or 45,600 (the label names the unit; exposure figures run into the tens of millions)."""
    if abs(count) >= 1e6:
        return f"{count / 1e6:,.1f}M"
    return f"{count:,.0f}"


def share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def of(part: int, whole: int) -> str:
    return f"{part:,} of {whole:,}"


def duration(seconds: float) -> str:
    """A wait as a reader says it: "40 s", "3 min", "1 h 5 min"."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def usd_words(amount: float) -> str:
    """$1 trillion, $4.98 billion, $15 million, $50,000: money as a limit or a range is said in words."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if amount >= size:
            return f"{sign}${amount / size:,.3g} {word}"
    return f"{sign}{usd_exact(amount)}"


def number_words(value: float) -> str:
    """400,000,000 or 0.5: a bound as a reader writes it (never 4e+08)."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def range_words(low: float, high: float, money: bool = False) -> str:
    """'at most $1 trillion', 'between 1 and 600': the allowed range of a value, in words."""
    say = usd_words if money else number_words
    return f"at most {say(high)}" if low == 0 else f"between {say(low)} and {say(high)}"
