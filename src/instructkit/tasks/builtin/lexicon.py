"""Word lists the built-in generators draw from (plain English, lower case)."""

NOUNS = ["cat", "dog", "bird", "fish", "horse", "tree", "river", "house", "garden", "window", "table", "chair", "book", "letter", "teacher", "doctor", "child", "farmer", "friend", "city", "road", "bridge", "boat", "train", "apple", "bread", "stone", "cloud", "storm", "flower", "forest", "mountain", "island", "lamp", "clock", "door", "key", "song", "story"]
VERBS = ["saw", "found", "liked", "painted", "carried", "watched", "followed", "visited", "cleaned", "moved"]
ADVERBS = ["today", "slowly", "quietly", "again", "early", "outside", "together", "later"]
NAMES = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Irene", "Jack", "Karen", "Leo", "Maria", "Nina", "Oscar", "Paul", "Quinn", "Rosa", "Sam", "Tina", "Uma", "Victor", "Wendy", "Xavier", "Yara", "Zoe"]
CITIES = ["Paris", "Lima", "Oslo", "Cairo", "Delhi", "Tokyo", "Quito", "Rome", "Vienna", "Dublin", "Accra", "Hanoi", "Seoul", "Sydney", "Madrid", "Prague", "Nairobi", "Lisbon"]
JOBS = ["baker", "pilot", "nurse", "painter", "farmer", "teacher", "lawyer", "chef", "dentist", "plumber", "writer"]
PETS = ["cats", "dogs", "birds", "fish", "rabbits"]
CATEGORIES = {
    "fruit": ["apple", "banana", "cherry", "grape", "lemon", "mango", "orange", "peach", "pear", "plum"],
    "animal": ["bear", "camel", "eagle", "fox", "horse", "lion", "mouse", "otter", "tiger", "zebra"],
    "color": ["black", "blue", "brown", "green", "grey", "orange", "pink", "purple", "red", "yellow"],
    "vehicle": ["bicycle", "boat", "bus", "car", "plane", "scooter", "ship", "taxi", "train", "truck"],
}
# "orange" is both a fruit and a color: generators never draw it for classification.
AMBIGUOUS = {"orange"}
POSITIVE = ["wonderful", "delightful", "brilliant", "charming", "excellent", "lovely", "superb", "joyful"]
NEGATIVE = ["terrible", "awful", "boring", "dreadful", "horrible", "dull", "miserable", "painful"]
SUBJECTS = ["movie", "meal", "concert", "trip", "book", "game", "show", "hotel"]
PALINDROMES = ["level", "radar", "civic", "kayak", "rotor", "refer", "madam", "noon", "stats", "racecar", "deed", "tenet"]
VOWELS = set("aeiou")
