"""Statistics (RULES section S): the usage rates R-S1 (件数ベース) and R-S2 (レセプト件数ベース) and
the registration rate R-S3, computed in SQL on the registry (rates.py); the simulated nation
they are computed on (simulate.py, calibration.py, population.py); what a policy change would
have done (whatif.py); charts (charts.py) and output formats (output.py).
"""
