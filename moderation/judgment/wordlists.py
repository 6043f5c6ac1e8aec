"""Default word lists per language, compiled by us for news comment sections.

"banned" words send a comment to Spam (they are almost never legitimate in a
news comment: spam offers, scam bait, the crudest slurs); "suspect" words only
hold it for a human even on post-moderated sites (insults and bait that are
sometimes quoted or used fairly, and words that also have a harmless meaning:
"xxx" signs off with kisses, "закладка" is a bookmark or a foundation stone, a
reader may "work from home"). Sites add their own words in the dashboard.
Matching is on whole words, case-insensitive; a trailing `*` matches a prefix.
"""

BANNED = {
    "en": [
        "viagra", "cialis", "casino*", "porn*", "escort*", "bitcoin doubler", "crypto giveaway",
        "make money fast", "earn $*", "buy followers", "cheap pills",
        "onlyfans", "telegram me", "whatsapp me", "loan offer*",
    ],
    "ru": [
        "виагр*", "казино", "казино*", "порно*", "эскорт*", "быстрый заработок",
        "заработок в интернете", "пишите в телеграм", "пишите в whatsapp", "займ без отказа", "кредит без справок",
        "накрутка подписчиков",
    ],
    "kk": [
        "казино*", "порно*", "тез табыс", "интернетте табыс", "несие берем", "телеграмға жазыңыз",
        "ставка жасаңыз",
    ],
}

SUSPECT = {
    "en": ["idiot*", "moron*", "stupid", "scum", "traitor*", "kill yourself", "retard*", "liar*", "fake news",
           "xxx", "work from home", "click here"],
    "ru": ["идиот*", "дебил*", "дурак*", "тупой", "тупая", "мразь", "мрази", "предател*", "сдохни", "урод*",
           "подонк*", "подонок", "твар*", "ублюд*",
           "ставки на спорт", "интим*", "закладк*"],
    "kk": ["ақымақ*", "малғұн*", "сатқын*", "оңбаған*", "есек*", "букмекер*"],
}
