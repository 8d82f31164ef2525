"""The live engine: tag -> server -> rules -> alert -> operator, in seconds.

``bus`` fans events out to server-sent-event streams; ``writer`` commits concurrent requests'
fixes in groups; ``state`` keeps each subject's recent window in memory; ``engine`` evaluates
the pure rules incrementally on that state; ``monitor`` runs the rules that fire on silence
or on time. See docs/live.md for the guarantees.
"""
