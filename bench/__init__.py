"""The benchmark behind `make bench`: its harness, seeders, scenarios and commands.

Development only. The app is installed when DEBUG is on or BENCH is true
(advisoros/settings.py), never in production, and no production app imports
it. It sits outside the apps' layering, like tests: it may import every app.
"""
