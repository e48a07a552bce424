"""Analysis of a plan: tables and headline figures, the independent validator, explanations, re-plans."""
