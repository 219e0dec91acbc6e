"""Built-in tasks over numbers: arithmetic, number properties, lists, counting, ordering."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from instructkit.tasks.builtin.lexicon import NAMES, NOUNS, VOWELS
from instructkit.tasks.builtin.spec import (
    MakeFn,
    Negative,
    Sample,
    TaskSpec,
    WrongFn,
    field,
    fmt_list,
    int_list,
    ints,
    is_int,
    off_by_one,
    other_label,
    verbose,
)

# ---- arithmetic --------------------------------------------------------------------


def _add(r: random.Random) -> Sample:
    a, b = r.randint(0, 999), r.randint(0, 999)
    return Sample(f"a = {a}\nb = {b}", [str(a + b)], f"{a} + {b} = {a + b}.")


def _sub(r: random.Random) -> Sample:
    a, b = sorted((r.randint(0, 999), r.randint(0, 999)), reverse=True)
    return Sample(f"a = {a}\nb = {b}", [str(a - b)], f"{a} - {b} = {a - b}.")


def _mul(r: random.Random) -> Sample:
    a, b = r.randint(2, 40), r.randint(2, 40)
    return Sample(f"a = {a}\nb = {b}", [str(a * b)], f"{a} × {b} = {a * b}.")


def _missing(r: random.Random) -> Sample:
    x, b = r.randint(0, 500), r.randint(0, 500)
    return Sample(f"Equation: x + {b} = {x + b}", [str(x)], f"x = {x + b} - {b} = {x}.")


def _pair(r: random.Random) -> Sample:
    m = r.randint(5, 60)
    total = r.randint(2, 2 * m)
    pairs = [f"{a} {total - a}" for a in range(m + 1) if a <= total - a <= m]
    return Sample(f"Sum: {total}\nLimit: {m}", pairs, f"{pairs[0].replace(' ', ' + ')} = {total}.")


def _check_pair(i: str, o: str) -> bool:
    parts = o.split(" ")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return False
    a, b = int(parts[0]), int(parts[1])
    m = ints(field(i, "Limit"))[0]
    return a <= b <= m and a + b == ints(field(i, "Sum"))[0]


def _pair_wrong(s: Sample, r: random.Random) -> Negative:
    a, b = (int(x) for x in s.outputs[0].split())
    return Negative(
        f"{a} {b + 1}",
        f"{a} + {b + 1} = {a + b + 1}, which is not the given sum.",
        "Check that the two numbers add up exactly to the sum.",
    )


ARITHMETIC = [
    TaskSpec(
        "ik001_add_two_numbers",
        "arithmetic",
        "Mathematics",
        "You are given two whole numbers a and b. Add them and output the sum as digits.",
        _add,
        lambda i, o: is_int(o) and int(o) == sum(ints(i)),
        off_by_one("Add carefully, digit by digit, with carries."),
    ),
    TaskSpec(
        "ik002_subtract_two_numbers",
        "arithmetic",
        "Mathematics",
        "Given two numbers a and b with a at least as large as b, output a minus b.",
        _sub,
        lambda i, o: is_int(o) and int(o) == ints(i)[0] - ints(i)[1],
        off_by_one("Subtract b from a and check by adding the result back to b."),
    ),
    TaskSpec(
        "ik003_multiply_two_numbers",
        "arithmetic",
        "Mathematics",
        "Multiply the two given numbers a and b and write the product.",
        _mul,
        lambda i, o: is_int(o) and int(o) == ints(i)[0] * ints(i)[1],
        off_by_one("Multiply a by b exactly; verify with a second method."),
    ),
    TaskSpec(
        "ik004_find_missing_addend",
        "arithmetic",
        "Mathematics",
        "An equation of the form x + b = c is given. Find the value of x.",
        _missing,
        lambda i, o: is_int(o) and int(o) + ints(i)[0] == ints(i)[1],
        off_by_one("Compute c minus b to isolate x."),
    ),
    TaskSpec(
        "ik005_two_numbers_with_sum",
        "arithmetic",
        "Mathematics",
        "You are given a target sum and a limit. Write two whole numbers, each between 0 "
        "and the limit, whose sum is the target: the smaller first, separated by a space.",
        _pair,
        _check_pair,
        _pair_wrong,
        turns_around="ik001_add_two_numbers",
    ),
]

# ---- number properties -------------------------------------------------------------


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n**0.5) + 1))


def _parity(r: random.Random) -> Sample:
    n = r.randint(0, 9999)
    lab = "even" if n % 2 == 0 else "odd"
    return Sample(f"Number: {n}", [lab], f"{n} ends in {n % 10}, so it is {lab}.")


def _prime(r: random.Random) -> Sample:
    want = r.random() < 0.5
    while True:
        n = r.randint(2, 3000)
        if _is_prime(n) == want:
            break
    why = (
        f"{n} has no divisor other than 1 and itself."
        if want
        else next(f"{n} = {d} × {n // d}." for d in range(2, n) if n % d == 0)
    )
    return Sample(f"Number: {n}", ["yes" if want else "no"], why)


def _larger(r: random.Random) -> Sample:
    a, b = r.sample(range(0, 1000), 2)
    return Sample(f"Numbers: {a}, {b}", [str(max(a, b))], f"{max(a, b)} > {min(a, b)}.")


def _compare(r: random.Random) -> Sample:
    a = r.randint(0, 100)
    b = a if r.random() < 0.2 else r.randint(0, 100)
    lab = "less" if a < b else "greater" if a > b else "equal"
    return Sample(f"First: {a}\nSecond: {b}", [lab], f"{a} is {lab} compared with {b}.")


def _digit_sum(r: random.Random) -> Sample:
    n = r.randint(10, 99999)
    ds = [int(c) for c in str(n)]
    return Sample(f"Number: {n}", [str(sum(ds))], " + ".join(map(str, ds)) + f" = {sum(ds)}.")


def _with_parity(r: random.Random) -> Sample:
    lo = r.randint(0, 90)
    hi = lo + r.randint(3, 9)
    lab = r.choice(["even", "odd"])
    ok = [str(n) for n in range(lo, hi + 1) if (n % 2 == 0) == (lab == "even")]
    return Sample(
        f"Parity: {lab}\nFrom: {lo}\nTo: {hi}", ok, f"{ok[0]} is {lab} and between {lo} and {hi}."
    )


def _check_with_parity(i: str, o: str) -> bool:
    lab, lo, hi = field(i, "Parity"), ints(field(i, "From"))[0], ints(field(i, "To"))[0]
    return is_int(o) and lo <= int(o) <= hi and (int(o) % 2 == 0) == (lab == "even")


def _parity_wrong(s: Sample, r: random.Random) -> Negative:
    n = int(s.outputs[0]) + 1
    return Negative(str(n), f"{n} does not have the asked parity.", "Check the last digit.")


def _compare_check(i: str, o: str) -> bool:
    a, b = ints(field(i, "First"))[0], ints(field(i, "Second"))[0]
    return o == ("less" if a < b else "greater" if a > b else "equal")


NUMBER_PROPERTIES = [
    TaskSpec(
        "ik006_even_or_odd",
        "number_properties",
        "Classification",
        "Decide whether the given whole number is even or odd. Answer 'even' or 'odd'.",
        _parity,
        lambda i, o: o == ("even" if ints(i)[0] % 2 == 0 else "odd"),
        other_label(("even", "odd"), "Look at the last digit: 0, 2, 4, 6, 8 mean even."),
        answer_choices=("even", "odd"),
    ),
    TaskSpec(
        "ik007_is_prime",
        "number_properties",
        "Classification",
        "Is the given number a prime number? Answer 'yes' if it is prime and 'no' otherwise.",
        _prime,
        lambda i, o: o == ("yes" if _is_prime(ints(i)[0]) else "no"),
        other_label(("yes", "no"), "Try dividing by every number up to its square root."),
        answer_choices=("yes", "no"),
    ),
    TaskSpec(
        "ik008_larger_number",
        "number_properties",
        "Mathematics",
        "Two different numbers are given. Output the larger of the two.",
        _larger,
        lambda i, o: is_int(o) and int(o) == max(ints(i)),
        verbose("Write only the larger number."),
    ),
    TaskSpec(
        "ik009_compare_numbers",
        "number_properties",
        "Classification",
        "Compare the first number with the second. Answer 'less' if the first is smaller, "
        "'greater' if it is larger, and 'equal' if they are the same.",
        _compare,
        _compare_check,
        other_label(("less", "greater", "equal"), "Compare the first number to the second."),
        answer_choices=("less", "greater", "equal"),
    ),
    TaskSpec(
        "ik010_digit_sum",
        "number_properties",
        "Mathematics",
        "Add up the digits of the given number and output the total.",
        _digit_sum,
        lambda i, o: is_int(o) and int(o) == sum(int(c) for c in str(ints(i)[0])),
        off_by_one("Add each digit once."),
    ),
    TaskSpec(
        "ik011_number_with_parity",
        "number_properties",
        "Mathematics",
        "Write one whole number between From and To (both included) that has the given "
        "parity (even or odd).",
        _with_parity,
        _check_with_parity,
        _parity_wrong,
        turns_around="ik006_even_or_odd",
    ),
]

# ---- list operations ---------------------------------------------------------------


def _rand_list(r: random.Random, lo: int = 4, hi: int = 8) -> list[int]:
    return [r.randint(0, 99) for _ in range(r.randint(lo, hi))]


def _list_task(fn: Callable[[list[int]], Any], why: Callable[[list[int], Any], str]) -> MakeFn:
    def make(r: random.Random) -> Sample:
        xs = _rand_list(r)
        out = fn(xs)
        return Sample(
            f"List: {fmt_list(xs)}",
            [str(out) if isinstance(out, int) else fmt_list(out)],
            why(xs, out),
        )

    return make


def _dedup(xs: list[int]) -> list[int]:
    return list(dict.fromkeys(xs))


def _dups_list(r: random.Random) -> Sample:
    xs = _rand_list(r)
    xs = xs + [r.choice(xs) for _ in range(r.randint(1, 3))]
    r.shuffle(xs)
    out = _dedup(xs)
    return Sample(
        f"List: {fmt_list(xs)}", [fmt_list(out)], "Each number is kept at its first position."
    )


def _at_index(r: random.Random) -> Sample:
    xs = _rand_list(r)
    k = r.randint(1, len(xs))
    return Sample(
        f"List: {fmt_list(xs)}\nPosition: {k}",
        [str(xs[k - 1])],
        f"Counting from 1, position {k} holds {xs[k - 1]}.",
    )


def _list_of(i: str) -> list[int]:
    return int_list(field(i, "List"))


def _wrong_list(fix: str) -> WrongFn:
    def wrong(s: Sample, r: random.Random) -> Negative:
        xs = int_list(field(s.input, "List"))
        bad = fmt_list(xs) if fmt_list(xs) != s.outputs[0] else fmt_list(xs[1:])
        return Negative(bad, "This is not the list the task asks for.", fix)

    return wrong


LIST_OPERATIONS = [
    TaskSpec(
        "ik012_list_maximum",
        "list_operations",
        "Program Execution",
        "Find the largest number in the given list of integers.",
        _list_task(max, lambda xs, o: f"No number in the list exceeds {o}."),
        lambda i, o: is_int(o) and int(o) == max(_list_of(i)),
        verbose("Output only the largest number."),
    ),
    TaskSpec(
        "ik013_list_minimum",
        "list_operations",
        "Program Execution",
        "Return the smallest element of the list.",
        _list_task(min, lambda xs, o: f"No number in the list is below {o}."),
        lambda i, o: is_int(o) and int(o) == min(_list_of(i)),
        verbose("Output only the smallest number."),
    ),
    TaskSpec(
        "ik014_list_reverse",
        "list_operations",
        "Program Execution",
        "Reverse the order of the elements of the list. Write the result in the same "
        "bracketed format.",
        _list_task(lambda xs: xs[::-1], lambda xs, o: "The last element comes first, and so on."),
        lambda i, o: o == fmt_list(_list_of(i)[::-1]),
        _wrong_list("Write the elements from last to first."),
    ),
    TaskSpec(
        "ik015_list_remove_duplicates",
        "list_operations",
        "Program Execution",
        "Remove repeated numbers from the list, keeping the first occurrence of each, and "
        "write the resulting list.",
        _dups_list,
        lambda i, o: o == fmt_list(_dedup(_list_of(i))),
        _wrong_list("Drop every number that already appeared earlier in the list."),
    ),
    TaskSpec(
        "ik016_list_sum",
        "list_operations",
        "Program Execution",
        "Compute the sum of all the numbers in the list.",
        _list_task(sum, lambda xs, o: " + ".join(map(str, xs)) + f" = {o}."),
        lambda i, o: is_int(o) and int(o) == sum(_list_of(i)),
        off_by_one("Add every element exactly once."),
    ),
    TaskSpec(
        "ik017_list_element_at_position",
        "list_operations",
        "Program Execution",
        "Output the element of the list at the given position, counting from 1.",
        _at_index,
        lambda i, o: is_int(o) and int(o) == _list_of(i)[ints(field(i, "Position"))[0] - 1],
        verbose("Write only the element."),
    ),
]

# ---- counting ----------------------------------------------------------------------


def _sentence(r: random.Random, lo: int = 4, hi: int = 9) -> str:
    return " ".join(r.choice([*NOUNS, "the", "a", "big", "old"]) for _ in range(r.randint(lo, hi)))


def _count_vowels(r: random.Random) -> Sample:
    w = r.choice(NOUNS) + r.choice(NOUNS)
    n = sum(c in VOWELS for c in w)
    return Sample(
        f"Word: {w}", [str(n)], f"The vowels of {w} are {', '.join(c for c in w if c in VOWELS)}."
    )


def _count_words(r: random.Random) -> Sample:
    s = _sentence(r)
    return Sample(
        f"Sentence: {s}", [str(len(s.split()))], f"The sentence has {len(s.split())} words."
    )


def _count_letter(r: random.Random) -> Sample:
    w = r.choice(NOUNS) + r.choice(NOUNS)
    c = r.choice(w)
    return Sample(
        f"Word: {w}\nLetter: {c}", [str(w.count(c))], f"'{c}' occurs {w.count(c)} times in {w}."
    )


def _count_above(r: random.Random) -> Sample:
    xs, t = _rand_list(r, 5, 9), r.randint(10, 90)
    n = sum(x > t for x in xs)
    return Sample(
        f"List: {fmt_list(xs)}\nThreshold: {t}", [str(n)], f"{n} numbers are greater than {t}."
    )


def _count_caps(r: random.Random) -> Sample:
    words = [w.capitalize() if r.random() < 0.4 else w for w in _sentence(r).split()]
    n = sum(w[0].isupper() for w in words)
    return Sample(f"Text: {' '.join(words)}", [str(n)], f"{n} words start with a capital letter.")


COUNTING = [
    TaskSpec(
        "ik018_count_vowels",
        "counting",
        "Counting",
        "Count how many vowels (a, e, i, o, u) the given word contains.",
        _count_vowels,
        lambda i, o: is_int(o) and int(o) == sum(c in VOWELS for c in field(i, "Word")),
        off_by_one("Go through the word letter by letter."),
    ),
    TaskSpec(
        "ik019_count_words",
        "counting",
        "Counting",
        "How many words are in the sentence? Words are separated by single spaces.",
        _count_words,
        lambda i, o: is_int(o) and int(o) == len(field(i, "Sentence").split()),
        off_by_one("Count the spaces and add one."),
    ),
    TaskSpec(
        "ik020_count_letter",
        "counting",
        "Counting",
        "Count the occurrences of the given letter in the given word.",
        _count_letter,
        lambda i, o: is_int(o) and int(o) == field(i, "Word").count(field(i, "Letter")),
        off_by_one("Mark each occurrence of the letter, then count the marks."),
    ),
    TaskSpec(
        "ik021_count_above_threshold",
        "counting",
        "Counting",
        "Count the numbers in the list that are strictly greater than the threshold.",
        _count_above,
        lambda i, o: (
            is_int(o) and int(o) == sum(x > ints(field(i, "Threshold"))[0] for x in _list_of(i))
        ),
        off_by_one("Numbers equal to the threshold do not count."),
    ),
    TaskSpec(
        "ik022_count_capitalized_words",
        "counting",
        "Counting",
        "Count how many words of the text begin with an upper-case letter.",
        _count_caps,
        lambda i, o: is_int(o) and int(o) == sum(w[0].isupper() for w in field(i, "Text").split()),
        off_by_one("Look only at the first letter of each word."),
    ),
]

# ---- ordering ----------------------------------------------------------------------


def _sort_nums(reverse: bool) -> MakeFn:
    def make(r: random.Random) -> Sample:
        xs = _rand_list(r)
        return Sample(
            f"List: {fmt_list(xs)}",
            [fmt_list(sorted(xs, reverse=reverse))],
            "Each number is placed "
            + ("after" if not reverse else "before")
            + " the smaller ones.",
        )

    return make


def _word_set(r: random.Random) -> list[str]:
    return r.sample(NOUNS, r.randint(3, 6))


def _sort_words(r: random.Random) -> Sample:
    ws = _word_set(r)
    return Sample(
        f"Words: {', '.join(ws)}", [", ".join(sorted(ws))], "Dictionary order, letter by letter."
    )


def _first_alpha(r: random.Random) -> Sample:
    ws = _word_set(r)
    return Sample(
        f"Words: {', '.join(ws)}", [min(ws)], f"{min(ws)} comes first in dictionary order."
    )


def _ages(r: random.Random) -> Sample:
    names = r.sample(NAMES, r.randint(3, 4))
    ages = r.sample(range(5, 90), len(names))
    text = " ".join(f"{n} is {a} years old." for n, a in zip(names, ages, strict=True))
    order = [n for _, n in sorted(zip(ages, names, strict=True))]
    return Sample(f"Facts: {text}", [", ".join(order)], f"{order[0]} is the youngest.")


def _check_ages(i: str, o: str) -> bool:
    import re

    pairs = re.findall(r"(\w+) is (\d+) years old", field(i, "Facts"))
    return o == ", ".join(n for n, _ in sorted(pairs, key=lambda p: int(p[1])))


def _words_wrong(fix: str) -> WrongFn:
    def wrong(s: Sample, r: random.Random) -> Negative:
        items = s.outputs[0].split(", ")
        bad = ", ".join(items[::-1]) if len(items) > 1 else items[0] + "s"
        return Negative(bad, "The items are not in the asked order.", fix)

    return wrong


ORDERING = [
    TaskSpec(
        "ik023_sort_ascending",
        "ordering",
        "Sorting",
        "Sort the list of numbers from smallest to largest.",
        _sort_nums(False),
        lambda i, o: o == fmt_list(sorted(_list_of(i))),
        _wrong_list("Put the smallest number first."),
    ),
    TaskSpec(
        "ik024_sort_descending",
        "ordering",
        "Sorting",
        "Arrange the numbers of the list in decreasing order.",
        _sort_nums(True),
        lambda i, o: o == fmt_list(sorted(_list_of(i), reverse=True)),
        _wrong_list("Put the largest number first."),
    ),
    TaskSpec(
        "ik025_sort_words",
        "ordering",
        "Sorting",
        "Sort the given words in alphabetical order and list them separated by commas.",
        _sort_words,
        lambda i, o: o == ", ".join(sorted(field(i, "Words").split(", "))),
        _words_wrong("Compare the words letter by letter from the left."),
    ),
    TaskSpec(
        "ik026_first_in_alphabet",
        "ordering",
        "Sorting",
        "Which of the given words comes first in alphabetical order? Output that word.",
        _first_alpha,
        lambda i, o: o == min(field(i, "Words").split(", ")),
        _words_wrong("Output the single word that would come first in a dictionary."),
    ),
    TaskSpec(
        "ik027_order_by_age",
        "ordering",
        "Sorting",
        "Read the facts about people's ages and list their names from youngest to oldest, "
        "separated by commas.",
        _ages,
        _check_ages,
        _words_wrong("Start with the person with the smallest age."),
    ),
]

__all__ = ["ARITHMETIC", "COUNTING", "LIST_OPERATIONS", "NUMBER_PROPERTIES", "ORDERING"]
