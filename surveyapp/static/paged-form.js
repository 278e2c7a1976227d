/* The residents' form, enhanced (surveyapp/templates/survey/form.html). Without JavaScript the
   server's page is the whole questionnaire on one page and works as it is. With it:
   - each .form-page is shown alone, with Back / Next and "Page 2 of 5" over a progress bar
     (Back and Next only show and hide: every answer stays in the one form that is posted);
   - the street list offers only the streets of the chosen district;
   - the answers are kept in this browser's localStorage as they are given, under the wave's
     id, so a resident who leaves can continue later; the thank-you (or "already received")
     page forgets them. Only radio, select and textarea answers are kept: never the invitation
     code, the CSRF token or the form's ticket, which are hidden inputs. A kiosk (a shared
     device) keeps nothing. */
(function () {
  "use strict";
  var PREFIX = "surveyapp:answers:";

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }  // blocked by settings
  }

  function forget(wave) {
    var store = storage();
    if (store) { try { store.removeItem(PREFIX + wave); } catch (e) { /* nothing kept */ } }
  }

  function load(wave) {
    var store = storage();
    try {
      var saved = store && JSON.parse(store.getItem(PREFIX + wave) || "null");
      return saved && typeof saved.answers === "object" ? saved : null;
    } catch (e) { return null; }
  }

  function save(wave, state) {
    var store = storage();
    if (store) { try { store.setItem(PREFIX + wave, JSON.stringify(state)); } catch (e) { /* full */ } }
  }

  /* The answer fields: the form's radios, selects and textareas (no hidden input). */
  function answerFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && (field.type === "radio" || field.tagName === "SELECT" ||
                            field.tagName === "TEXTAREA");
    });
  }

  function answersOf(form) {
    var answers = {};
    answerFields(form).forEach(function (field) {
      if (field.type === "radio") {
        if (field.checked) { answers[field.name] = field.value; }
      } else if (field.value) {
        answers[field.name] = field.value;
      }
    });
    return answers;
  }

  /* Fill in saved answers where the page has none (answers the server re-showed win);
     true if any was filled in. */
  function restore(form, answers) {
    var given = answersOf(form), filled = false;
    answerFields(form).forEach(function (field) {
      var value = answers[field.name];
      if (value === undefined || given[field.name] !== undefined) { return; }
      if (field.type === "radio") {
        if (field.value === value) { field.checked = true; filled = true; }
      } else {
        field.value = value;
        filled = filled || field.value === value;
      }
    });
    return filled;
  }

  /* The street list offers the chosen district's streets only (all, grouped, before one is
     chosen); a street of another district is unselected. */
  function followDistrict(form) {
    var district = form.elements.namedItem("district");
    var street = form.elements.namedItem("street");
    if (!district || !street || district.tagName !== "SELECT" || street.tagName !== "SELECT") {
      return function () {};
    }
    var groups = Array.prototype.slice.call(street.querySelectorAll("optgroup"));
    function update() {
      var value = street.value;
      groups.forEach(function (group) {
        var wanted = !district.value || group.getAttribute("data-district") === district.value;
        if (wanted && group.parentNode !== street) { street.appendChild(group); }
        if (!wanted && group.parentNode === street) { street.removeChild(group); }
      });
      groups.forEach(function (group) {  // keep the server's order
        if (group.parentNode === street) { street.appendChild(group); }
      });
      street.value = value;
      if (street.value !== value) { street.value = ""; }
    }
    district.addEventListener("change", update);
    return update;
  }

  function paginate(form, pages, onShow) {
    var back = document.getElementById("page-back");
    var next = document.getElementById("page-next");
    var submit = document.getElementById("submit-answers");
    var progress = document.getElementById("form-progress");
    var label = document.getElementById("progress-label");
    var bar = document.getElementById("progress-bar");
    var template = form.getAttribute("data-page-label");
    var current = 0;

    function show(index, moveFocus) {
      current = Math.max(0, Math.min(index, pages.length - 1));
      pages.forEach(function (page, i) { page.hidden = i !== current; });
      back.hidden = current === 0;
      next.hidden = current === pages.length - 1;
      submit.hidden = current !== pages.length - 1;
      label.textContent = template.replace("{page}", String(current + 1))
        .replace("{total}", String(pages.length));
      bar.max = pages.length;
      bar.value = current + 1;
      if (moveFocus) {
        label.focus();
        progress.scrollIntoView();
      }
      onShow(current);
    }

    function pageOf(element) {
      for (var i = 0; i < pages.length; i++) { if (pages[i].contains(element)) { return i; } }
      return -1;
    }

    /* Next adds a browser history entry, so that a phone's own Back button goes to the page
       before instead of leaving the form; the form's Back button only relabels the entry. */
    function forward() {
      show(current + 1, true);
      history.pushState({ surveyPage: current }, "");
    }
    back.addEventListener("click", function () {
      show(current - 1, true);
      history.replaceState({ surveyPage: current }, "");
    });
    next.addEventListener("click", forward);
    window.addEventListener("popstate", function (event) {
      var state = event.state;  // null for a jump to an #anchor (an error link, the skip link)
      if (state && typeof state.surveyPage === "number" && state.surveyPage !== current) {
        show(state.surveyPage, true);
      }
    });
    /* Enter in a field before the last page goes on to the next page, not to the server. */
    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key !== "Enter" || current === pages.length - 1 || target.tagName === "TEXTAREA" ||
          target.tagName === "BUTTON" || pageOf(target) < 0) { return; }
      event.preventDefault();
      forward();
    });
    /* A link of the error summary opens the page of the answer it names. */
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      var index = target ? pageOf(target) : -1;
      if (index >= 0) { show(index, false); }
    });
    progress.hidden = false;
    back.parentNode.classList.add("paged");
    return {
      open: function (index, moveFocus) {  // not a step of the history: a fresh start here
        show(index, moveFocus);
        history.replaceState({ surveyPage: current }, "");
      },
      pageOf: pageOf
    };
  }

  function start() {
    var forgetting = document.querySelector("[data-forget-answers]");
    if (forgetting) { forget(forgetting.getAttribute("data-forget-answers")); }
    var form = document.querySelector("form.survey-form");
    if (!form) { return; }
    var wave = form.getAttribute("data-wave");
    var keeping = form.getAttribute("data-save") === "on" && storage() !== null;
    var pages = Array.prototype.slice.call(form.querySelectorAll(".form-page"));
    var updateStreets = followDistrict(form);
    var saved = keeping ? load(wave) : null;
    var page = saved && typeof saved.page === "number" ? saved.page : 0;
    var restored = saved ? restore(form, saved.answers) : false;
    updateStreets();

    function keep() {
      if (keeping) { save(wave, { page: page, answers: answersOf(form) }); }
    }
    var pager = paginate(form, pages, function (index) { page = index; keep(); });
    form.addEventListener("change", keep);
    form.addEventListener("input", keep);

    var firstError = document.querySelector(".error-summary a[href^='#']");
    var wrong = firstError && document.getElementById(firstError.getAttribute("href").slice(1));
    pager.open(wrong && pager.pageOf(wrong) >= 0 ? pager.pageOf(wrong) : page, false);

    var notice = document.getElementById("resume-notice");
    if (restored && notice) {
      notice.hidden = false;
      document.getElementById("resume-forget").addEventListener("click", function () {
        forget(wave);
        answerFields(form).forEach(function (field) {
          if (field.type === "radio") { field.checked = false; }
          else if (field.tagName === "SELECT") { field.selectedIndex = 0; }  // "Please choose"
          else { field.value = ""; }
        });
        updateStreets();
        notice.hidden = true;
        pager.open(0, true);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
