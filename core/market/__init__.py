"""Market and site time series: import prices, load and PV history into in-memory TimeSeries."""
