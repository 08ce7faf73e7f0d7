"""Answer: each candidate sentence scored by named features, the confidence that it answers, and the answer composed."""
