"""Built-in tasks over text: string manipulation, word editing, ciphers, rule-based
classification with a fixed label set, and question answering over a generated passage."""

from __future__ import annotations

import random
import re

from instructkit.tasks.builtin.lexicon import (
    ADVERBS,
    AMBIGUOUS,
    CATEGORIES,
    CITIES,
    JOBS,
    NAMES,
    NEGATIVE,
    NOUNS,
    PALINDROMES,
    PETS,
    POSITIVE,
    SUBJECTS,
    VOWELS,
)
from instructkit.tasks.builtin.spec import (
    MakeFn,
    Negative,
    Sample,
    TaskSpec,
    WrongFn,
    field,
    ints,
    other_label,
    verbose,
)


def _word(r: random.Random) -> str:
    return r.choice(NOUNS) + (r.choice(NOUNS) if r.random() < 0.5 else "")


def _phrase(r: random.Random, lo: int = 3, hi: int = 6) -> list[str]:
    return r.sample(NOUNS, r.randint(lo, hi))


def _changed(fix: str, how: str = "it changes the wrong letters") -> WrongFn:
    def wrong(s: Sample, r: random.Random) -> Negative:
        out = s.outputs[0]
        bad = out[1:] + out[:1] if len(set(out)) > 1 else out + out
        return Negative(bad, f"'{bad}' is not the expected result: {how}.", fix)

    return wrong


# ---- string manipulation -----------------------------------------------------------


def _reverse(r: random.Random) -> Sample:
    w = _word(r)
    return Sample(f"Word: {w}", [w[::-1]], f"Reading {w} from right to left gives {w[::-1]}.")


def _unreverse(r: random.Random) -> Sample:
    w = _word(r)
    return Sample(f"Reversed: {w[::-1]}", [w], f"Reversing {w[::-1]} gives back {w}.")


def _upper(r: random.Random) -> Sample:
    w = " ".join(_phrase(r, 1, 3))
    return Sample(f"Text: {w}", [w.upper()], "Every letter is turned into its capital form.")


def _no_vowels(r: random.Random) -> Sample:
    w = _word(r)
    out = "".join(c for c in w if c not in VOWELS)
    return Sample(f"Word: {w}", [out], f"Removing a, e, i, o and u from {w} leaves {out}.")


def _initials(r: random.Random) -> Sample:
    ws = _phrase(r)
    out = "".join(w[0] for w in ws)
    return Sample(f"Phrase: {' '.join(ws)}", [out], f"The first letters are {', '.join(out)}.")


STRING_MANIPULATION = [
    TaskSpec(
        "ik028_reverse_word",
        "string_manipulation",
        "String Manipulation",
        "Write the given word backwards, from its last letter to its first.",
        _reverse,
        lambda i, o: o == field(i, "Word")[::-1],
        _changed("Start from the last letter and move left."),
    ),
    TaskSpec(
        "ik029_restore_reversed_word",
        "string_manipulation",
        "String Manipulation",
        "You are given a word written backwards. Recover the original word.",
        _unreverse,
        lambda i, o: o[::-1] == field(i, "Reversed"),
        _changed("Read the reversed word from right to left."),
        turns_around="ik028_reverse_word",
    ),
    TaskSpec(
        "ik030_uppercase",
        "string_manipulation",
        "String Manipulation",
        "Convert every letter of the text to upper case. Keep the spaces.",
        _upper,
        lambda i, o: o == field(i, "Text").upper(),
        _changed("Capitalise every letter, not just the first.", "letters are misplaced"),
    ),
    TaskSpec(
        "ik031_remove_vowels",
        "string_manipulation",
        "String Manipulation",
        "Delete every vowel (a, e, i, o, u) from the word and output what remains.",
        _no_vowels,
        lambda i, o: o == "".join(c for c in field(i, "Word") if c not in VOWELS),
        _changed("Keep each consonant in its place and drop only vowels."),
    ),
    TaskSpec(
        "ik032_first_letters",
        "string_manipulation",
        "String Manipulation",
        "Form a word from the first letter of each word of the phrase, in order.",
        _initials,
        lambda i, o: o == "".join(w[0] for w in field(i, "Phrase").split()),
        _changed("Take exactly one letter, the first, from every word."),
    ),
]

# ---- word-level editing -------------------------------------------------------------


def _swap(r: random.Random) -> Sample:
    ws = _phrase(r, 3, 6)
    out = [ws[-1], *ws[1:-1], ws[0]]
    return Sample(
        f"Sentence: {' '.join(ws)}", [" ".join(out)], f"'{ws[0]}' and '{ws[-1]}' trade places."
    )


def _delete(r: random.Random) -> Sample:
    ws = _phrase(r, 3, 6)
    w = r.choice(ws)
    out = " ".join(x for x in ws if x != w)
    return Sample(f"Sentence: {' '.join(ws)}\nDelete: {w}", [out], f"Only '{w}' is removed.")


def _replace(r: random.Random) -> Sample:
    ws = _phrase(r, 3, 6)
    old, new = r.choice(ws), r.choice([n for n in NOUNS if n not in ws])
    out = " ".join(new if x == old else x for x in ws)
    return Sample(
        f"Sentence: {' '.join(ws)}\nReplace: {old}\nWith: {new}",
        [out],
        f"'{old}' becomes '{new}', the rest stays.",
    )


def _append(r: random.Random) -> Sample:
    ws = _phrase(r, 3, 6)
    a = r.choice(ADVERBS)
    return Sample(
        f"Sentence: {' '.join(ws)}\nAdd: {a}", [" ".join([*ws, a])], f"'{a}' is added at the end."
    )


def _find_deleted(r: random.Random) -> Sample:
    ws = _phrase(r, 3, 6)
    k = r.randrange(len(ws))
    edited = ws[:k] + ws[k + 1 :]
    return Sample(
        f"Original: {' '.join(ws)}\nEdited: {' '.join(edited)}",
        [ws[k]],
        f"'{ws[k]}' is in the original but not in the edited sentence.",
    )


def _check_deleted(i: str, o: str) -> bool:
    a, b = field(i, "Original").split(), field(i, "Edited").split()
    return any(a[:k] + a[k + 1 :] == b and a[k] == o for k in range(len(a)))


def _sentence_wrong(fix: str) -> WrongFn:
    def wrong(s: Sample, r: random.Random) -> Negative:
        ws = s.outputs[0].split()
        bad = " ".join(ws[::-1]) if len(ws) > 1 and ws != ws[::-1] else s.outputs[0] + " " + ws[0]
        return Negative(bad, "The words are not where the edit puts them.", fix)

    return wrong


WORD_EDITING = [
    TaskSpec(
        "ik033_swap_first_last_word",
        "word_editing",
        "Sentence Perturbation",
        "Swap the first and the last word of the sentence; leave the other words in place.",
        _swap,
        lambda i, o: (lambda w: o == " ".join([w[-1], *w[1:-1], w[0]]))(
            field(i, "Sentence").split()
        ),
        _sentence_wrong("Exchange only the first and the last word."),
    ),
    TaskSpec(
        "ik034_delete_word",
        "word_editing",
        "Sentence Perturbation",
        "Remove the given word from the sentence and write the sentence that remains.",
        _delete,
        lambda i, o: (
            o == " ".join(w for w in field(i, "Sentence").split() if w != field(i, "Delete"))
        ),
        _sentence_wrong("Delete that one word and keep the order of the others."),
    ),
    TaskSpec(
        "ik035_replace_word",
        "word_editing",
        "Sentence Perturbation",
        "In the sentence, replace the word given after 'Replace' by the word given after 'With'.",
        _replace,
        lambda i, o: (
            o
            == " ".join(
                field(i, "With") if w == field(i, "Replace") else w
                for w in field(i, "Sentence").split()
            )
        ),
        _sentence_wrong("Substitute the word in place, keeping every other word."),
    ),
    TaskSpec(
        "ik036_append_word",
        "word_editing",
        "Sentence Perturbation",
        "Add the given word at the end of the sentence.",
        _append,
        lambda i, o: o == field(i, "Sentence") + " " + field(i, "Add"),
        _sentence_wrong("Put the new word after the last word."),
    ),
    TaskSpec(
        "ik037_find_deleted_word",
        "word_editing",
        "Sentence Perturbation",
        "One word was deleted from the original sentence to make the edited one. Which word "
        "was deleted?",
        _find_deleted,
        _check_deleted,
        verbose("Write just the deleted word."),
        turns_around="ik034_delete_word",
    ),
]

# ---- ciphers -------------------------------------------------------------------------


def _shift(w: str, k: int) -> str:
    return "".join(chr((ord(c) - 97 + k) % 26 + 97) for c in w)


def _atbash(w: str) -> str:
    return "".join(chr(219 - ord(c)) for c in w)


def _caesar(r: random.Random) -> Sample:
    w, k = _word(r), r.randint(1, 5)
    return Sample(
        f"Shift: {k}\nText: {w}", [_shift(w, k)], f"Each letter moves {k} places forward."
    )


def _uncaesar(r: random.Random) -> Sample:
    w, k = _word(r), r.randint(1, 5)
    return Sample(f"Shift: {k}\nCode: {_shift(w, k)}", [w], f"Each letter moves {k} places back.")


def _to_numbers(r: random.Random) -> Sample:
    w = _word(r)
    out = " ".join(str(ord(c) - 96) for c in w)
    return Sample(f"Word: {w}", [out], "a is 1, b is 2, and so on up to z = 26.")


def _from_numbers(r: random.Random) -> Sample:
    w = _word(r)
    return Sample(
        f"Numbers: {' '.join(str(ord(c) - 96) for c in w)}", [w], "1 is a, 2 is b, up to 26 = z."
    )


def _atbash_make(r: random.Random) -> Sample:
    w = _word(r)
    return Sample(f"Word: {w}", [_atbash(w)], "a ↔ z, b ↔ y, c ↔ x, and so on.")


CIPHERS = [
    TaskSpec(
        "ik038_caesar_encode",
        "ciphers",
        "Text Encoding",
        "Encode the text with a Caesar cipher: move every letter forward in the alphabet by "
        "the given shift, wrapping from z back to a.",
        _caesar,
        lambda i, o: o == _shift(field(i, "Text"), ints(field(i, "Shift"))[0]),
        _changed("Shift each letter by exactly the given amount."),
    ),
    TaskSpec(
        "ik039_caesar_decode",
        "ciphers",
        "Text Encoding",
        "The code was made by moving every letter forward by the given shift. Move each "
        "letter back to recover the original word.",
        _uncaesar,
        lambda i, o: (
            _shift(o, ints(field(i, "Shift"))[0]) == field(i, "Code")
            if o.isalpha() and o.islower()
            else False
        ),
        _changed("Move every letter backwards by the shift, wrapping from a to z."),
        turns_around="ik038_caesar_encode",
    ),
    TaskSpec(
        "ik040_letters_to_numbers",
        "ciphers",
        "Text Encoding",
        "Replace each letter of the word by its position in the alphabet (a = 1, ..., "
        "z = 26), separated by spaces.",
        _to_numbers,
        lambda i, o: o == " ".join(str(ord(c) - 96) for c in field(i, "Word")),
        _changed("Use one number per letter."),
    ),
    TaskSpec(
        "ik041_numbers_to_letters",
        "ciphers",
        "Text Encoding",
        "Each number is the position of a letter in the alphabet (1 = a, ..., 26 = z). "
        "Write the word they spell.",
        _from_numbers,
        lambda i, o: o == "".join(chr(n + 96) for n in ints(field(i, "Numbers"))),
        _changed("Turn every number into exactly one letter."),
        turns_around="ik040_letters_to_numbers",
    ),
    TaskSpec(
        "ik042_atbash",
        "ciphers",
        "Text Encoding",
        "Apply the Atbash cipher: replace a by z, b by y, c by x, and so on.",
        _atbash_make,
        lambda i, o: o == _atbash(field(i, "Word")),
        _changed("Mirror each letter in the alphabet."),
    ),
]

# ---- rule-based classification -------------------------------------------------------

_CATEGORY_WORDS = {c: [w for w in ws if w not in AMBIGUOUS] for c, ws in CATEGORIES.items()}
_WORD_TO_CATEGORY = {w: c for c, ws in _CATEGORY_WORDS.items() for w in ws}
_CAT_LABELS = tuple(CATEGORIES)


def _sentiment(r: random.Random) -> Sample:
    lab = r.choice(["positive", "negative"])
    adj = r.choice(POSITIVE if lab == "positive" else NEGATIVE)
    adv = r.choice(["really", "quite", "truly", "rather", "so"])
    s = f"{r.choice(NAMES)}'s {r.choice(SUBJECTS)} was {adv} {adj}."
    return Sample(f"Review: {s}", [lab], f"'{adj}' expresses a {lab} opinion.")


def _category(r: random.Random) -> Sample:
    c = r.choice(_CAT_LABELS)
    ws = r.sample(_CATEGORY_WORDS[c], 3)
    return Sample(f"Words: {', '.join(ws)}", [c], f"Each of {', '.join(ws)} is a kind of {c}.")


def _category_word(r: random.Random) -> Sample:
    c = r.choice(_CAT_LABELS)
    used = r.sample(_CATEGORY_WORDS[c], r.randint(2, 4))
    ws = [w for w in _CATEGORY_WORDS[c] if w not in used]
    return Sample(
        f"Category: {c}\nNot: {', '.join(used)}", ws, f"{ws[0]} is a {c} not in the list."
    )


def _check_category_word(i: str, o: str) -> bool:
    return _WORD_TO_CATEGORY.get(o) == field(i, "Category") and o not in field(i, "Not").split(", ")


def _palindrome(r: random.Random) -> Sample:
    half = "".join(r.choice("abcdeilmnorst") for _ in range(r.randint(1, 3)))
    if r.random() < 0.5:
        w = r.choice(
            [half + half[::-1], half + r.choice("aeiou") + half[::-1], r.choice(PALINDROMES)]
        )
        return Sample(f"Word: {w}", ["yes"], f"{w} reads the same backwards.")
    w = half + r.choice("aeiou") + "".join(r.choice("bcdfgklmnprst") for _ in range(len(half) + 1))
    while w == w[::-1]:
        w += "x"
    return Sample(f"Word: {w}", ["no"], f"{w} backwards is {w[::-1]}.")


def _size(n: int) -> str:
    return "small" if n < 100 else "medium" if n < 500 else "large"


def _size_make(r: random.Random) -> Sample:
    n = r.randint(0, 999)
    return Sample(f"Number: {n}", [_size(n)], f"{n} falls in the {_size(n)} range.")


CLASSIFICATION = [
    TaskSpec(
        "ik043_keyword_sentiment",
        "rule_classification",
        "Sentiment Analysis",
        "Classify the short review as 'positive' or 'negative' according to the opinion "
        "word it contains.",
        _sentiment,
        lambda i, o: o == ("positive" if any(w in i for w in POSITIVE) else "negative"),
        other_label(("positive", "negative"), "Find the adjective that carries the opinion."),
        answer_choices=("positive", "negative"),
    ),
    TaskSpec(
        "ik044_word_category",
        "rule_classification",
        "Text Categorization",
        "All the given words belong to one category: fruit, animal, color or vehicle. "
        "Name that category.",
        _category,
        lambda i, o: all(_WORD_TO_CATEGORY.get(w) == o for w in field(i, "Words").split(", ")),
        other_label(_CAT_LABELS, "Ask what kind of thing the word names."),
        answer_choices=_CAT_LABELS,
    ),
    TaskSpec(
        "ik045_word_of_category",
        "rule_classification",
        "Text Categorization",
        "Write one word that names a member of the given category (fruit, animal, color or "
        "vehicle) and is not among the words listed after 'Not'.",
        _category_word,
        _check_category_word,
        lambda s, r: Negative(
            "table", "A table is not a member of that category.", "Pick a typical member of it."
        ),
        turns_around="ik044_word_category",
    ),
    TaskSpec(
        "ik046_is_palindrome",
        "rule_classification",
        "Classification",
        "A palindrome reads the same forwards and backwards. Is the string a palindrome? "
        "Answer 'yes' or 'no'.",
        _palindrome,
        lambda i, o: o == ("yes" if field(i, "Word") == field(i, "Word")[::-1] else "no"),
        other_label(("yes", "no"), "Compare the word with its reverse."),
        answer_choices=("yes", "no"),
    ),
    TaskSpec(
        "ik047_number_size",
        "rule_classification",
        "Classification",
        "Label the number 'small' if it is below 100, 'medium' if it is from 100 to 499, "
        "and 'large' if it is 500 or more.",
        _size_make,
        lambda i, o: o == _size(ints(i)[0]),
        other_label(("small", "medium", "large"), "Compare the number with 100 and 500."),
        answer_choices=("small", "medium", "large"),
    ),
]

# ---- question answering over a generated passage --------------------------------------

_FACT = re.compile(r"(\w+) lives in (\w+) and works as an? (\w+)\. \w+ has (\d+) (\w+)\.")


def _passage(r: random.Random) -> tuple[str, list[tuple[str, str, str, int, str]]]:
    k = r.randint(2, 3)
    people = list(zip(r.sample(NAMES, k), r.sample(CITIES, k), r.sample(JOBS, k), strict=True))
    facts = [(n, c, j, r.randint(1, 9), r.choice(PETS)) for n, c, j in people]
    text = " ".join(
        f"{n} lives in {c} and works as {'an' if j[0] in 'aeiou' else 'a'} {j}. {n} has {p} {pet}."
        for n, c, j, p, pet in facts
    )
    return text, facts


def _facts(i: str) -> list[tuple[str, ...]]:
    return _FACT.findall(field(i, "Passage"))


def _qa(kind: str) -> MakeFn:
    def make(r: random.Random) -> Sample:
        text, facts = _passage(r)
        n, c, j, p, pet = r.choice(facts)
        q, a = {
            "city": (f"Where does {n} live?", c),
            "job": (f"What is {n}'s job?", j),
            "count": (f"How many {pet} does {n} have?", str(p)),
            "who": (f"Who lives in {c}?", n),
        }[kind]
        return Sample(f"Passage: {text}\nQuestion: {q}", [a], f"The passage says so about {n}.")

    return make


def _check_qa(i: str, o: str) -> bool:
    q = field(i, "Question")
    for n, c, j, p, pet in _facts(i):
        if q == f"Where does {n} live?":
            return o == c
        if q == f"What is {n}'s job?":
            return o == j
        if q == f"How many {pet} does {n} have?":
            return o == p
        if q == f"Who lives in {c}?":
            return o == n
    return False


def _question_gen(r: random.Random) -> Sample:
    text, facts = _passage(r)
    n, c = r.choice(facts)[:2]
    return Sample(f"Passage: {text}\nAnswer: {c}", [f"Where does {n} live?"], f"{n} lives in {c}.")


def _check_question_gen(i: str, o: str) -> bool:
    c = field(i, "Answer")
    return any(o == f"Where does {n} live?" and city == c for n, city, *_ in _facts(i))


def _answerable(r: random.Random) -> Sample:
    text, facts = _passage(r)
    if r.random() < 0.5:
        n = r.choice(facts)[0]
        return Sample(
            f"Passage: {text}\nQuestion: Where does {n} live?",
            ["yes"],
            f"The passage names {n}'s city.",
        )
    n = r.choice([x for x in NAMES if x not in {f[0] for f in facts}])
    return Sample(
        f"Passage: {text}\nQuestion: Where does {n} live?", ["no"], f"{n} is not in the passage."
    )


def _check_answerable(i: str, o: str) -> bool:
    m = re.fullmatch(r"Where does (\w+) live\?", field(i, "Question"))
    assert m is not None
    return o == ("yes" if m.group(1) in {f[0] for f in _facts(i)} else "no")


def _qa_wrong(s: Sample, r: random.Random) -> Negative:
    text = field(s.input, "Passage")
    facts = _FACT.findall(text)
    pool = [x for f in facts for x in f if x not in s.outputs]
    bad = r.choice(pool)
    return Negative(
        bad,
        f"'{bad}' appears in the passage but does not answer the question.",
        "Find the sentence about the person or place the question names.",
    )


PASSAGE_QA = [
    TaskSpec(
        "ik048_passage_city",
        "passage_qa",
        "Question Answering",
        "Answer the question about where a person lives, using only the passage. Write just "
        "the city.",
        _qa("city"),
        _check_qa,
        _qa_wrong,
    ),
    TaskSpec(
        "ik049_passage_job",
        "passage_qa",
        "Question Answering",
        "Read the passage and answer the question about someone's job with one word.",
        _qa("job"),
        _check_qa,
        _qa_wrong,
    ),
    TaskSpec(
        "ik050_passage_pet_count",
        "passage_qa",
        "Question Answering",
        "Use the passage to answer how many pets of a kind a person has. Answer with a number.",
        _qa("count"),
        _check_qa,
        _qa_wrong,
    ),
    TaskSpec(
        "ik051_passage_who",
        "passage_qa",
        "Question Answering",
        "The question asks who lives in a city. Answer with the person's name from the passage.",
        _qa("who"),
        _check_qa,
        _qa_wrong,
    ),
    TaskSpec(
        "ik052_passage_question_generation",
        "passage_qa",
        "Question Generation",
        "Given a passage and a city as the answer, write the question 'Where does X live?' "
        "whose answer is that city.",
        _question_gen,
        _check_question_gen,
        lambda s, r: Negative(
            "Where is the city?",
            "The question must name the person who lives there.",
            "Use the form 'Where does <name> live?'.",
        ),
        turns_around="ik048_passage_city",
    ),
    TaskSpec(
        "ik053_passage_answerable",
        "passage_qa",
        "Answerability Classification",
        "Can the question be answered from the passage? Answer 'yes' if the passage says "
        "where the person lives and 'no' if the person is not mentioned.",
        _answerable,
        _check_answerable,
        other_label(("yes", "no"), "Look for the person's name in the passage."),
        answer_choices=("yes", "no"),
    ),
]

__all__ = ["CIPHERS", "CLASSIFICATION", "PASSAGE_QA", "STRING_MANIPULATION", "WORD_EDITING"]
