/* Ask before what cannot be undone (issue 21).
 *
 * A form, or one of its submit buttons, that carries data-confirm="…" (the text says what will
 * happen, translated in the template) is not sent at once: the page's one <dialog
 * id="confirm-dialog"> (templates/includes/confirm_dialog.html) opens as a modal with that
 * text. 取消 (or Escape) closes it and nothing is sent; the confirm button (labelled by
 * data-confirm-ok, else by the submit button's own text) sends the form with the button that
 * was pressed, so its name/value reach the server. Focus starts on 取消 and goes back to the
 * pressed button on cancel. A button's data-confirm wins over its form's.
 */
(function () {
  "use strict";

  const dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") {
    return;
  }
  const text = dialog.querySelector("[data-confirm-text]");
  const ok = dialog.querySelector("[data-confirm-ok]");
  const cancel = dialog.querySelector("[data-confirm-cancel]");
  const okDefault = ok.textContent;
  let pending = null;

  function messageOf(form, submitter) {
    if (submitter && submitter.hasAttribute("data-confirm")) {
      return submitter.getAttribute("data-confirm");
    }
    if (submitter && submitter.hasAttribute("data-no-confirm")) {
      return "";
    }
    return form.getAttribute("data-confirm") || "";
  }

  document.addEventListener(
    "submit",
    function (event) {
      const form = event.target;
      if (!(form instanceof HTMLFormElement)) {
        return;
      }
      if (form.dataset.confirmed === "1") {
        delete form.dataset.confirmed;
        return;
      }
      const submitter = event.submitter || null;
      const message = messageOf(form, submitter);
      if (!message) {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      pending = { form: form, submitter: submitter };
      text.textContent = message;
      ok.textContent =
        (submitter && submitter.dataset.confirmOk) ||
        form.dataset.confirmOk ||
        (submitter && submitter.textContent.trim()) ||
        okDefault;
      ok.className = "btn" + (submitter && submitter.classList.contains("btn-danger") ? " btn-danger" : "");
      dialog.returnValue = "";
      dialog.showModal();
      cancel.focus();
    },
    true
  );

  ok.addEventListener("click", function () {
    dialog.close("ok");
  });
  cancel.addEventListener("click", function () {
    dialog.close("cancel");
  });

  dialog.addEventListener("close", function () {
    const was = pending;
    pending = null;
    if (!was) {
      return;
    }
    if (dialog.returnValue === "ok") {
      was.form.dataset.confirmed = "1";
      if (was.submitter && typeof was.form.requestSubmit === "function") {
        was.form.requestSubmit(was.submitter);
      } else if (typeof was.form.requestSubmit === "function") {
        was.form.requestSubmit();
      } else {
        was.form.submit();
      }
      // a submission stopped by the browser's own checks must not skip the question next time
      window.setTimeout(function () {
        delete was.form.dataset.confirmed;
      }, 0);
    } else if (was.submitter) {
      was.submitter.focus();
    }
  });
})();
