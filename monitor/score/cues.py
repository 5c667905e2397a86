"""Complaint and praise cue words for the languages customers most often write in that the model
does not read. They only tip a post the model cannot read towards the inbox (verdict.py): a human
reads it there; nothing is labelled with confidence from a word list."""

from __future__ import annotations

import re
import unicodedata

# Cues (comma-separated, a few are phrases) are matched on word boundaries after case-folding and
# accent-stripping, so "pésimo", "PESIMO" and "pesimo" all count.
_NEGATIVE = {
    "es": "pesimo, pesima, malo, mala, horrible, terrible, peor, nunca, nadie, no funciona, estafa, queja,"
    " reembolso, cobro, cobraron, error, fallo, falla, problema, lento, roto, decepcionado, decepcionada,"
    " basura, odio, cancelar, devolver, sin respuesta, no sirve",
    "fr": "nul, nulle, horrible, pire, jamais, personne, ne marche pas, ne fonctionne pas, inutilisable,"
    " arnaque, remboursement, plainte, bug, panne, lent, casse, decu, decue, deception, honte, perds, perdu,"
    " probleme, annuler, aucune reponse",
    "de": "schlecht, schrecklich, furchtbar, nie, niemand, funktioniert nicht, kaputt, betrug, erstattung,"
    " beschwerde, fehler, absturz, langsam, enttauscht, katastrophe, argerlich, problem, verloren, kundigen,"
    " keine antwort",
    "pt": "pessimo, pessima, ruim, horrivel, pior, nunca, ninguem, nao funciona, golpe, reembolso,"
    " reclamacao, erro, problema, lento, quebrado, decepcionado, cobrado, cancelar, sem resposta",
    "it": "pessimo, pessima, schifo, orribile, peggiore, mai, nessuno, non funziona, truffa, rimborso,"
    " reclamo, errore, problema, lento, rotto, deluso, delusa, vergogna, nessuna risposta",
    "nl": "slecht, vreselijk, nooit, niemand, werkt niet, kapot, oplichting, terugbetaling, klacht, fout,"
    " probleem, traag, teleurgesteld, geen antwoord",
}
_POSITIVE = {
    "es": "excelente, genial, perfecto, perfecta, encanta, gracias, maravilloso, fantastico, recomiendo",
    "fr": "excellent, excellente, genial, parfait, parfaite, adore, merci, formidable, recommande, super",
    "de": "super, toll, klasse, perfekt, danke, empfehlen, grossartig, hervorragend, wunderbar, endlich",
    "pt": "excelente, otimo, otima, perfeito, adoro, obrigado, obrigada, recomendo, maravilhoso",
    "it": "eccellente, ottimo, ottima, perfetto, adoro, grazie, consiglio, fantastico",
    "nl": "uitstekend, geweldig, perfect, top, bedankt, aanrader, fantastisch",
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _patterns(table: dict[str, str]) -> dict[str, re.Pattern[str]]:
    out = {}
    for language, cues in table.items():
        phrases = sorted({c.strip() for c in cues.split(",") if c.strip()}, key=len, reverse=True)
        out[language] = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b")
    return out


_NEGATIVE_RE = _patterns(_NEGATIVE)
_POSITIVE_RE = _patterns(_POSITIVE)


def leaning(text: str, language: str | None) -> int:
    """-1 if complaint cues outnumber praise cues, +1 for the reverse, 0 when even or unknown."""
    if language not in _NEGATIVE_RE:
        return 0
    folded = _fold(text)
    negative = len(_NEGATIVE_RE[language].findall(folded))
    positive = len(_POSITIVE_RE[language].findall(folded))
    return (positive > negative) - (negative > positive)
