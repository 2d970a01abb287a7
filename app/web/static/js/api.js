// Calls to the service's JSON API, with its errors turned into messages people can act on.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", cache: "no-store", ...options });
  } catch (error) {
    throw new ApiError(0, `the service did not answer (${error.message})`, null);
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON: a proxy's page, say
    }
    const message = body?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message, body);
  }
  return response;
}

export async function getJSON(url) {
  return (await request(url)).json();
}

export async function postJSON(url, body, headers = {}) {
  const response = await request(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return response.json();
}

export const enc = encodeURIComponent;
