"""`yzw audit`: a department's pushed data judged record by record, streaming, with the SUP-03 KPIs."""
