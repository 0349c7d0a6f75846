"""Reference tables shared by the simulator and the ``/data`` endpoints of the sandbox.

The legacy sessions endpoint names things one way (``location.country = "France"``,
``device.type = "desktop"``, ``os.name = "Microsoft Windows"``, ``client.name = "Firefox"``);
the ``/data`` endpoints another (``country = "FR"``, ``continent = "EU"``,
``deviceType = "computer"``, ``operatingSystem = "windows"``, ``browser = "firefox"``).
These tables map one to the other, so that both kinds of endpoint describe one world.
"""

from __future__ import annotations

__all__ = [
    "BROWSERS",
    "BROWSERS_BY_OS",
    "CAMPAIGNS",
    "COUNTRIES",
    "DEVICES",
    "DEVICE_PROFILES",
    "OPERATING_SYSTEMS",
    "OS_VERSIONS",
    "PLANS",
    "REFERRERS",
    "VIDEO_TITLES",
]

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

#: os.name -> os.version values the legacy sessions carried.
OS_VERSIONS: dict[str, tuple[str, ...]] = {
    "Microsoft Windows": ("Windows10", "Windows11"),
    "Mac OS X": ("10.15", "14.1"),
    "GNU/Linux": ("unknown",),
    "Android": ("13", "14"),
    "iOS": ("16.6", "17.1"),
}

#: (device.type, device.vendor, device.model, os.name, weight): consistent device profiles
#: (an iPhone runs iOS, a Dell desktop Windows). Weights per device type add up to the
#: weights of :data:`DEVICES`.
DEVICE_PROFILES: tuple[tuple[str, str, str, str, float], ...] = (
    ("desktop", "Dell", "unknown", "Microsoft Windows", 0.22),
    ("desktop", "Lenovo", "unknown", "Microsoft Windows", 0.12),
    ("desktop", "unknown", "unknown", "Microsoft Windows", 0.04),
    ("desktop", "Apple", "unknown", "Mac OS X", 0.11),
    ("desktop", "unknown", "unknown", "GNU/Linux", 0.03),
    ("mobile", "Apple", "iPhone", "iOS", 0.15),
    ("mobile", "Samsung", "Galaxy S23", "Android", 0.12),
    ("mobile", "Google", "Pixel 8", "Android", 0.06),
    ("mobile", "Xiaomi", "Redmi Note 12", "Android", 0.05),
    ("tablet", "Apple", "iPad", "iOS", 0.05),
    ("tablet", "Samsung", "Galaxy Tab S9", "Android", 0.03),
    ("tv", "LG", "unknown", "Android", 0.01),
    ("tv", "Samsung", "unknown", "Android", 0.01),
)

#: os.name -> (client.name, weight): the browsers that run there, most common first.
BROWSERS_BY_OS: dict[str, tuple[tuple[str, float], ...]] = {
    "Microsoft Windows": (
        ("Chrome", 0.6),
        ("Microsoft Edge", 0.2),
        ("Firefox", 0.15),
        ("Opera", 0.05),
    ),
    "Mac OS X": (("Safari", 0.5), ("Chrome", 0.4), ("Firefox", 0.1)),
    "GNU/Linux": (("Firefox", 0.55), ("Chrome", 0.45)),
    "Android": (("Chrome", 0.85), ("Firefox", 0.05), ("Opera", 0.1)),
    "iOS": (("Safari", 0.8), ("Chrome", 0.2)),
}

#: Session metadata: {"plan": ...} values and weights.
PLANS: tuple[tuple[str, float], ...] = (("free", 0.7), ("pro", 0.3))

#: Session metadata: {"campaign": ...} values and weights (None: no campaign key).
CAMPAIGNS: tuple[tuple[str | None, float], ...] = (
    (None, 0.55),
    ("spring-sale", 0.2),
    ("newsletter", 0.15),
    ('launch <b>"2026"</b> & co', 0.1),
)

#: Video titles, cycled. Some are non-ASCII and some carry HTML on purpose.
VIDEO_TITLES: tuple[str, ...] = (
    "Getting started with the API",
    "Résumé — 日本語",
    '<script>alert("x")</script> & "quotes"',
    "Maths video: string theory",
    "Webinar replay — Q&A",
    "Product tour 2026",
    "Tutoriel : téléverser une vidéo",
    "Live coding session #42",
    "Customer story: Ōsaka studio",
    "How we encode <1080p> & 4K",
    "Onboarding (part 1)",
    "Onboarding (part 2)",
    "Release notes — v3.0",
    "Ünïcödé stress test 🎬",
    "Keynote highlights",
    "Behind the scenes",
)
