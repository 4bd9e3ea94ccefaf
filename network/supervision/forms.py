from django import forms

from .models import SupervisionCase


class ReviewForm(forms.Form):
    verdict = forms.ChoiceField(choices=SupervisionCase.Verdict.choices, widget=forms.RadioSelect)
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, required=False)


class CommentForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
