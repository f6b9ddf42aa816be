-- POST a new survivor (one sealed field, one statistical field) per request.
wrk.method = "POST"
wrk.body = '{"fields":{"prs_FirstName":"Bench","prs_Gender":"Feminine"}}'
wrk.headers["Content-Type"] = "application/json"
