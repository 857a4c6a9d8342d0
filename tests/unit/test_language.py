"""Language identification on short notes: the labelled set behind the choice of py3langid and
MIN_PROBABILITY (services/nlp/domain/language.py). Short, plain insights like a person types."""

from __future__ import annotations

import pytest

from services.nlp.domain.language import DEFAULT_LANGUAGE, detect_language

ENGLISH = [
    # langdetect called the first two Norwegian, with p > 0.9999.
    "My sourdough starter smells like apples",
    "Running five kilometres every morning improved my sleep",
    "Sleep quality drops when I drink coffee after noon",
    "Neo4j stores a graph of nodes and relationships",
    "Graph databases make connected notes easy to explore",
    "Apple is opening a research lab in Berlin",
    "Berlin startups are hiring machine learning engineers",
    "Sourdough bread needs a long cold proof overnight",
    "Buy milk and eggs tomorrow",
    "Call mom on Sunday",
    "Pizza night with the team",
    "Meeting notes: ship the beta by Friday",
    "Remember to renew the passport before June",
    "The kids loved the museum of natural history",
    "Try cold brew with oat milk",
    "Book flights to Lisbon for the conference",
    "Read chapter four of the statistics book",
    "Garden tomatoes need more sun on the balcony",
    "Ask Sarah about the quarterly budget review",
    "Podcast idea: interviews with indie game developers",
    "Learn the basics of Rust ownership and borrowing",
    "Dentist appointment moved to Thursday morning",
    "Our churn rate fell after the onboarding redesign",
    "Use smaller batches when fine tuning the model",
    "Pack sunscreen and hiking boots for the trip",
    "Jazz concert downtown on Saturday night",
    "My grandmother's lentil soup recipe uses cumin",
    "Write a thank you note to the hiring manager",
    "Server latency spikes every night at midnight",
    "Stretching before bed helps my lower back",
    "Finish the quarterly tax forms before April",
    "Bike commute saves me forty minutes a day",
    "Idea: a shared grocery list for the flat",
    "Plant basil and mint in the window box",
    "Team retro: too many meetings on Mondays",
    "Voice memo about the kitchen renovation quote",
    "Walk the dog before the rain starts",
    "New keyboard shortcuts make editing faster",
    "Morning pages clear my head before work",
    "Order birthday cake for Emma",
    "Yoga class cancelled this week",
    "Pay the electricity bill",
    "Salmon with lemon and dill tonight",
    "Docker images are too large for the edge devices",
    "The novel's ending felt rushed",
    "Grandpa's stories about the war",
    "Swap the car tyres for winter",
    "Fix the leaking tap in the bathroom",
    "Cheap flights to Oslo in March",
    "Start a reading group at work",
    # PocketSphinx's transcript of a voice note, errors and all.
    "remember to all the bags about the markets on monday",
]

OTHER_LANGUAGES = {
    "de": [
        "Ich muss morgen früh zum Arzt gehen",
        "Brot backen am Wochenende mit den Kindern",
        "Die Besprechung wurde auf Donnerstag verschoben",
        "Milch und Eier kaufen",
        "Neue Ideen für das Projekt sammeln",
    ],
    "fr": [
        "Le chat dort sur le canapé depuis ce matin",
        "Acheter du pain et du fromage",
        "Réunion avec l'équipe demain à dix heures",
        "Appeler maman dimanche",  # too weak a guess (Indonesian, p 0.17): the default
        "Lire le nouveau roman de cet auteur",
    ],
    "es": [
        "Mañana voy a la playa con mis amigos",
        "Comprar leche y huevos",
        "Llamar al médico el lunes",
        "La reunión empieza a las nueve",
        "Aprender a tocar la guitarra",
    ],
    "it": [
        "Domani vado al mare con gli amici",
        "Comprare il pane e il latte",
        "La riunione è spostata a giovedì",
        "Chiamare la nonna domenica",
        "Imparare a cucinare la pasta fresca",
    ],
    "nl": [
        "Morgen ga ik naar de dokter",
        "Melk en eieren kopen",
        "De vergadering is verplaatst naar donderdag",
        "Oma bellen op zondag",
        "Nieuwe fiets kopen voor de winter",
    ],
    "pt": [
        "Amanhã vou à praia com os meus amigos",
        "Comprar leite e ovos",
        "A reunião foi adiada para quinta-feira",
        "Ligar para a avó no domingo",
        "Aprender a tocar violão",
    ],
    "no": [
        "Jeg skal handle melk i morgen",
        "Møtet er flyttet til torsdag",
        "Ring bestemor på søndag",
        "Kjøpe ny sykkel til vinteren",
        "Lære å lage brød",
    ],
    "sv": [
        "Jag ska handla mjölk i morgon",
        "Mötet är flyttat till torsdag",
        "Ring mormor på söndag",
        "Köpa en ny cykel till vintern",
        "Lära mig baka bröd",
    ],
}


@pytest.mark.parametrize("text", ENGLISH)
def test_short_english_notes_are_english(text: str) -> None:
    assert detect_language(text) == "en"


def test_other_languages_are_recognised_or_left_at_the_default_never_mislabelled() -> None:
    answers = {text: detect_language(text) for texts in OTHER_LANGUAGES.values() for text in texts}
    wrong = {
        text: answer
        for language, texts in OTHER_LANGUAGES.items()
        for text in texts
        if (answer := answers[text]) not in (language, DEFAULT_LANGUAGE)
    }
    assert wrong == {}
    right = sum(answers[t] == lang for lang, texts in OTHER_LANGUAGES.items() for t in texts)
    assert right >= 39  # of 40; langdetect: 33


def test_longer_texts_in_other_scripts() -> None:
    assert detect_language("今日はとても暑いので、公園を散歩しました") == "ja"
    assert detect_language("Сегодня я ходил в парк с собакой") == "ru"  # noqa: RUF001
    assert detect_language("Wir fahren im Sommer nach Italien") == "de"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ok",
        "TODO",
        "12:30 dentist",
        "Neo4j",
        "!!! ??? ...",
        "🙂🙂🙂",
        # Under MIN_LETTERS: py3langid would say Welsh (0.24), Norwegian (0.22), Latin (0.23).
        "Gym at 6",
        "Dinner plan",
        "Meditate",
        # Long enough, too unsure: Latvian at 0.05.
        "Kubernetes operators",
    ],
)
def test_too_short_or_too_unsure_is_the_default(text: str) -> None:
    assert detect_language(text) == DEFAULT_LANGUAGE
