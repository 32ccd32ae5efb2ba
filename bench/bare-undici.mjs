// The baseline of the publish benchmarks: the create-post request written with bare undici, no
// library, its answer read with `body.json()`.
import { request } from 'undici';

export async function bareCreatePost({ apiBaseUrl, agent, accessToken, text }) {
  const response = await request(`${apiBaseUrl}/2/tweets`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  const body = await response.body.json();
  if (response.statusCode !== 201 || !body.data?.id) throw new Error(`bare request failed: ${response.statusCode}`);
}
