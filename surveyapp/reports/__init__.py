"""Report builders (PDF, Excel, CSV) fed by analysis results."""
