"""Word lists the built-in generators draw from (plain English, lower case)."""

NOUNS = (
    "cat dog bird fish horse tree river house garden window table chair book letter "
    "teacher doctor child farmer friend city road bridge boat train apple bread stone "
    "cloud storm flower forest mountain island lamp clock door key song story"
).split()
VERBS = "saw found liked painted carried watched followed visited cleaned moved".split()
ADVERBS = "today slowly quietly again early outside together later".split()
NAMES = (
    "Alice Bob Carol David Emma Frank Grace Henry Irene Jack Karen Leo Maria Nina Oscar "
    "Paul Quinn Rosa Sam Tina Uma Victor Wendy Xavier Yara Zoe"
).split()
CITIES = (
    "Paris Lima Oslo Cairo Delhi Tokyo Quito Rome Vienna Dublin Accra Hanoi Seoul Sydney "
    "Madrid Prague Nairobi Lisbon"
).split()
JOBS = "baker pilot nurse painter farmer teacher lawyer chef dentist plumber writer".split()
PETS = "cats dogs birds fish rabbits".split()
CATEGORIES = {
    "fruit": "apple banana cherry grape lemon mango orange peach pear plum".split(),
    "animal": "bear camel eagle fox horse lion mouse otter tiger zebra".split(),
    "color": "black blue brown green grey orange pink purple red yellow".split(),
    "vehicle": "bicycle boat bus car plane scooter ship taxi train truck".split(),
}
# "orange" is both a fruit and a color: generators never draw it for classification.
AMBIGUOUS = {"orange"}
POSITIVE = "wonderful delightful brilliant charming excellent lovely superb joyful".split()
NEGATIVE = "terrible awful boring dreadful horrible dull miserable painful".split()
SUBJECTS = "movie meal concert trip book game show hotel".split()
PALINDROMES = "level radar civic kayak rotor refer madam noon stats racecar deed tenet".split()
VOWELS = set("aeiou")
