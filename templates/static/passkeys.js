// passkeys.js: the browser's half of passkeys (WebAuthn). A button with
// data-passkey="create" registers one (the name and "alone" fields of its form go
// with the request); data-passkey="get" signs in with one. data-begin and
// data-finish are the server's two steps; data-status is where a failure is shown.
// The server keeps each exchange in the session: this script only relays it.
(function () {
  "use strict";
  var supported = window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";

  function show(button, message) {
    var out = document.getElementById(button.dataset.status);
    if (out) {
      out.textContent = message;
      out.hidden = false;
    }
  }

  async function post(url, body) {
    var res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    });
    var data = {};
    try { data = await res.json(); } catch (e) { /* not JSON: an error page */ }
    if (!res.ok) {
      throw new Error(data.detail || ("The server answered " + res.status + ". Please reload and try again."));
    }
    return data;
  }

  async function run(button) {
    if (button.dataset.passkey === "create") {
      var form = button.form;
      var options = await post(button.dataset.begin, {
        name: form.elements["passkey-name"].value,
        passwordless: form.elements["passkey-alone"].checked
      });
      var created = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)
      });
      return post(button.dataset.finish, created.toJSON());
    }
    var request = await post(button.dataset.begin);
    var asserted = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(request.publicKey)
    });
    return post(button.dataset.finish, asserted.toJSON());
  }

  document.addEventListener("click", async function (event) {
    var button = event.target.closest("[data-passkey]");
    if (!button) {
      return;
    }
    event.preventDefault();
    if (!supported) {
      show(button, "This browser cannot use passkeys.");
      return;
    }
    button.disabled = true;
    try {
      var done = await run(button);
      window.location.assign(done.redirect);
    } catch (e) {
      // NotAllowedError: the person cancelled, or the device said no.
      show(button, e.name === "NotAllowedError" ? "The passkey was not used. Try again, or use another way." : e.message);
      button.disabled = false;
    }
  });
})();
