"""Synthetic county submissions: the parts behind `edustat_synth.generate.generate`.

counties   county units from the divisions seed and the traits that make counties differ
names      Chinese place and school names
schools    the school population of one county, evolved year by year
records    one school's 37 submission values for one year
styles     how each county presents its file (format, layout, messy but valid cells)
faults     realistic rule violations (rejected files) and warnings-only oddities
writers    xlsx / csv output
county_job everything for one county: simulate, derive, inject, write
"""
