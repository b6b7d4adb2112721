-- Run with `nvim --headless --clean -u tests/neovim/init.lua -l tests/neovim/accept.lua OUT.json`:
-- the accept function of the configuration, given items shaped as Neovim's versions shape them,
-- inserts only what was not typed since the request. Writes {case: resulting line} as JSON.
local accept = require('flashpro.accept')
local out = arg[1]
local results = {}
vim.o.virtualedit = 'onemore' -- the cursor may sit after the line's end, as in insert mode

local function case(name, line, col, item)
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'def add(a, b):', line })
  vim.api.nvim_win_set_cursor(0, { 2, col })
  accept(item)
  local cursor = vim.api.nvim_win_get_cursor(0)
  results[name] = { lines = vim.api.nvim_buf_get_lines(0, 0, -1, false), cursor = cursor }
end

-- Asked at column 4 of "    ", the user typed "re" before accepting.
case('vim.Range', '    re', 6, { insert_text = 'return a + b', range = { start = { row = 1, col = 4 } } })
case('Range4', '    re', 6, { insert_text = 'return a + b', range = { 1, 4, 1, 4 } })
case('lsp range', '    re', 6, { insert_text = 'return a + b', range = { start = { line = 1, character = 4 } } })
case('nothing typed', '    ', 4, { insert_text = 'return a + b', range = { start = { row = 1, col = 4 } } })
case('typed past it', '    rx', 6, { insert_text = 'return a + b', range = { start = { row = 1, col = 4 } } })
case('multi-line', '    re', 6, { insert_text = 'return (\n        a + b\n    )', range = { start = { row = 1, col = 4 } } })

local file = assert(io.open(out, 'w'))
file:write(vim.json.encode(results))
file:close()
vim.cmd('qa!')
