"""Counties in the loop: who is told what after each night.

- contacts.py   EDUSTAT_CONTACTS: region_code,url rows, checked (bad rows reported, never fatal)
- status.py     the warehouse's county-year status (ops.county_year_status) and what is owed
- facts.py      the run's decisions and their failing checks (ops tables)
- model.py      the view model every message is rendered from
- render.py     templates/*.txt.j2 rendered per language with the phrases of wording.py
- night.py      notify_night(): county notices, reminders, region and national digests
- deliveries.py ops.deliveries: what was sent, to whom (redacted), and what came of it
"""
