"""Reference tables shared by the simulator and the ``/data`` endpoints of the sandbox.

The legacy sessions endpoint names things one way (``location.country = "France"``,
``device.type = "desktop"``, ``os.name = "Microsoft Windows"``, ``client.name = "Firefox"``);
the ``/data`` endpoints another (``country = "FR"``, ``continent = "EU"``,
``deviceType = "computer"``, ``operatingSystem = "windows"``, ``browser = "firefox"``).
These tables map one to the other, so that both kinds of endpoint describe one world.
"""

from __future__ import annotations

__all__ = ["BROWSERS", "COUNTRIES", "DEVICES", "OPERATING_SYSTEMS", "REFERRERS"]

#: (legacy country name, ISO-3166 alpha-2, continent code, cities, weight)
COUNTRIES: tuple[tuple[str, str, str, tuple[str, ...], float], ...] = (
    ("United States", "US", "NA", ("New York", "San Francisco", "Austin"), 0.26),
    ("France", "FR", "EU", ("Paris", "Lyon", "Bordeaux"), 0.16),
    ("Germany", "DE", "EU", ("Berlin", "München"), 0.10),
    ("United Kingdom", "GB", "EU", ("London", "Manchester"), 0.09),
    ("Brazil", "BR", "SA", ("São Paulo", "Rio de Janeiro"), 0.07),
    ("India", "IN", "AS", ("Bengaluru", "Mumbai"), 0.08),
    ("Japan", "JP", "AS", ("Tokyo", "Ōsaka"), 0.06),
    ("Canada", "CA", "NA", ("Montréal", "Toronto"), 0.05),
    ("Nigeria", "NG", "AF", ("Lagos",), 0.03),
    ("Australia", "AU", "AZ", ("Sydney", "Melbourne"), 0.04),
    ("Spain", "ES", "EU", ("Madrid", "Barcelona"), 0.04),
    ("Mexico", "MX", "NA", ("Ciudad de México",), 0.02),
)

#: (legacy device.type, /data deviceType, vendors, weight)
DEVICES: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("desktop", "computer", ("Dell", "Apple", "Lenovo", "unknown"), 0.52),
    ("mobile", "phone", ("Apple", "Samsung", "Google", "Xiaomi"), 0.38),
    ("tablet", "tablet", ("Apple", "Samsung"), 0.08),
    ("tv", "tv", ("LG", "Samsung"), 0.02),
)

#: (legacy os.name, os.shortname, /data operatingSystem, device types it runs on)
OPERATING_SYSTEMS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Microsoft Windows", "WIN", "windows", ("desktop",)),
    ("Mac OS X", "MAC", "mac osx", ("desktop",)),
    ("GNU/Linux", "LIN", "linux", ("desktop",)),
    ("Android", "AND", "android", ("mobile", "tablet", "tv")),
    ("iOS", "IOS", "ios", ("mobile", "tablet")),
)

#: (legacy client.name, /data browser, versions)
BROWSERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Chrome", "chrome", ("118.0", "119.0", "120.0")),
    ("Firefox", "firefox", ("119.0", "120.0")),
    ("Safari", "safari", ("17.0", "17.1")),
    ("Microsoft Edge", "edge", ("119.0",)),
    ("Opera", "opera", ("104.0",)),
)

#: (referrer.url, referrer.medium, referrer.source, referrer.searchTerm, weight).
#: Some carry HTML-special characters on purpose: reports must escape them.
REFERRERS: tuple[tuple[str, str, str, str, float], ...] = (
    ("https://www.google.com/", "organic", "https://google.com", "video hosting api", 0.30),
    (
        "https://news.example.com/article?id=42&ref=home",
        "organic",
        "https://news.example.com",
        "unknown",
        0.15,
    ),
    ("https://t.co/xyz", "social", "https://twitter.com", "unknown", 0.12),
    (
        'https://ads.example.net/c?<campaign>="spring"',
        "paid",
        "https://ads.example.net",
        "unknown",
        0.08,
    ),
    ("unknown", "unknown", "unknown", "unknown", 0.35),
)
