"""Battery schedule optimization: an LP per device (or per grid-coupled fleet) solved by HiGHS."""
