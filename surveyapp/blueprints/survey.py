"""Residents: list open surveys, show the questionnaire, accept a response."""
from flask import Blueprint

bp = Blueprint("survey", __name__)
