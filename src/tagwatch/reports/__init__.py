"""Reports rendered for people: HTML (and PDF) with static plots, made offline."""
