-- wrk script: each request takes the next path from the file named by WRK_PATHS,
-- with a user agent and referrer from small rotating lists, so click events
-- carry visits that differ the way real ones do.
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  paths[#paths + 1] = line
end

local agents = {}
for i = 1, 23 do
  agents[i] = "Mozilla/5.0 (bench " .. i .. ") AppleWebKit/537.36 (KHTML, like Gecko) "
    .. "Chrome/13" .. i .. ".0 Safari/537.36"
end
local referrers = {
  "https://news.ycombinator.com/", "https://www.reddit.com/", "",
  "https://t.co/x", "https://example.org/",
}
local i = 0

request = function()
  i = i + 1
  local headers = {
    ["User-Agent"] = agents[(i % #agents) + 1],
    ["Referer"] = referrers[(i % #referrers) + 1],
  }
  return wrk.format("GET", paths[(i % #paths) + 1], headers)
end
