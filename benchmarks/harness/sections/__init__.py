"""One module per section of the report: what it measures (`measure`) and how it is written (`render`)."""
