-- Driven by tests/test_real_neovim.py:
--   nvim --headless --clean -u tests/neovim/init.lua -l tests/neovim/actions.lua
--
-- Neovim loads the user configuration in init.lua unchanged, as a user's init.lua (at startup,
-- before any file is opened); this script then overrides only what a test must: the server
-- command (the test's Python), the fake DeepSeek URL and key. It opens the file, runs
-- "Quick edit…" and "Review this" through vim.lsp.buf.code_action (Neovim's own codeAction ->
-- codeAction/resolve -> workspace/executeCommand path, with the server's workspace/applyEdit
-- answered by Neovim's handler), asks for one inline completion, and writes what it saw to
-- $TEST_FLASHPRO_OUT as JSON. Exit status 0 on success, 1 with `error` set.
--
-- Why -u and not dofile(): `-l` runs after startup (v:vim_did_enter is 1), so a
-- vim.lsp.enable() called from the script re-fires FileType for the empty [No Name] buffer and
-- starts a client from the not-yet-overridden configuration.
--
local cmd = vim.json.decode((assert(os.getenv('TEST_FLASHPRO_CMD'), 'TEST_FLASHPRO_CMD')))
local base_url = assert(os.getenv('TEST_FLASHPRO_BASE_URL'), 'TEST_FLASHPRO_BASE_URL')
local file = assert(os.getenv('TEST_FLASHPRO_FILE'), 'TEST_FLASHPRO_FILE')
local out_path = assert(os.getenv('TEST_FLASHPRO_OUT'), 'TEST_FLASHPRO_OUT')
local timeout = tonumber(os.getenv('TEST_FLASHPRO_TIMEOUT_MS') or '') or 20000

local out = {
  nvim = tostring(vim.version()),
  steps = {}, -- what the script did, in order
  sent = {}, -- client -> server requests, in order (method names)
  server_requests = {}, -- server -> client requests that reached Neovim's handlers
  messages = {}, -- window/showMessage
  titles = {}, -- every code action title Neovim was offered, per run
}
local client ---@type vim.lsp.Client?
local bufnr ---@type integer?

local function step(name)
  table.insert(out.steps, name)
end

local function diagnostics()
  local list = {}
  for _, d in ipairs(bufnr and vim.diagnostic.get(bufnr) or {}) do
    table.insert(list, {
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      severity = d.severity,
      source = d.source,
      code = d.code,
      message = d.message,
      lsp = d.user_data and d.user_data.lsp or vim.NIL,
    })
  end
  return list
end

local function finish(code, reason)
  out.error = reason
  if bufnr and vim.api.nvim_buf_is_valid(bufnr) then
    out.lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
    out.diagnostics = diagnostics()
  end
  out.clients = #vim.lsp.get_clients({ name = 'flashpro' })
  if client and not client:is_stopped() then
    -- A prompt shutdown/exit is part of what is tested (an editor waits for it).
    client:stop()
    out.stopped = vim.wait(5000, function()
      return out.exit ~= nil
    end, 20)
  end
  local f = assert(io.open(out_path, 'w'))
  f:write(vim.json.encode(out))
  f:close()
  os.exit(code)
end

local function wait_for(what, predicate)
  step('wait: ' .. what)
  if not vim.wait(timeout, predicate, 20) then
    finish(1, ('timed out after %d ms waiting for %s'):format(timeout, what))
  end
end

local function with_source(source)
  return vim.tbl_filter(function(d)
    return d.source == source
  end, diagnostics())
end

local function run()
  -- Record what reaches Neovim's default handlers, then call them as usual.
  for _, method in ipairs({ 'workspace/applyEdit', 'window/showMessage', 'workspace/executeCommand' }) do
    local default = vim.lsp.handlers[method]
    vim.lsp.handlers[method] = function(err, result, ctx, config)
      local answer = default and { default(err, result, ctx, config) } or {}
      table.insert(out.server_requests, {
        method = method,
        err = err or vim.NIL,
        params = result or vim.NIL,
        answer = answer[1] or vim.NIL,
      })
      if method == 'window/showMessage' and result then
        table.insert(out.messages, result.message)
      end
      return unpack(answer)
    end
  end
  -- Several matching actions would open a picker: in this test that is a failure, not a choice.
  vim.ui.select = function(items, _, on_choice)
    local titles = vim.tbl_map(function(item)
      return item.action.title
    end, items)
    out.select = titles
    on_choice(nil)
    finish(1, 'vim.ui.select was called: the filter matched ' .. #items .. ' actions')
  end

  -- The user's configuration (init.lua, loaded with -u) must have enabled flashpro.
  if not (vim.lsp.config.flashpro and vim.lsp.is_enabled('flashpro')) then
    finish(1, 'init.lua did not configure and enable flashpro (run nvim with -u tests/neovim/init.lua)')
  end
  -- What a test must change: the server command and the fake DeepSeek API.
  vim.lsp.config('flashpro', {
    cmd = cmd,
    init_options = { apiKey = 'sk-test', baseUrl = base_url },
    on_exit = function(code, signal)
      out.exit = { code = code, signal = signal }
    end,
  })
  out.config = {
    cmd = vim.lsp.config.flashpro.cmd,
    root_markers = vim.lsp.config.flashpro.root_markers,
    init_option_keys = vim.tbl_keys(vim.lsp.config.flashpro.init_options),
  }

  vim.api.nvim_create_autocmd('LspAttach', {
    callback = function(args)
      local c = vim.lsp.get_client_by_id(args.data.client_id)
      if c and c.name == 'flashpro' then
        client = c
        -- Record every request Neovim sends this server (method names, in order).
        local request = c.request
        c.request = function(self, method, ...)
          table.insert(out.sent, method)
          return request(self, method, ...)
        end
      end
    end,
  })

  step('edit ' .. file)
  vim.cmd.edit(vim.fn.fnameescape(file))
  bufnr = vim.api.nvim_get_current_buf()
  wait_for('the client to attach', function()
    return client ~= nil
  end)
  out.root_dir = client.root_dir
  out.offset_encoding = client.offset_encoding
  out.server_name = client.server_info and client.server_info.name or vim.NIL
  out.before = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)

  -- Pick the one action whose title starts with `prefix`; apply = true runs it without a picker.
  local function code_action(prefix, first_row, last_row)
    local offered = {}
    out.titles[prefix] = offered
    step('code action ' .. prefix)
    vim.lsp.buf.code_action({
      apply = true,
      -- (1,0)-indexed like marks; Neovim adds one to the end column (an inclusive selection).
      range = { start = { first_row, 0 }, ['end'] = { last_row, 0 } },
      filter = function(action)
        table.insert(offered, action.title)
        return vim.startswith(action.title, prefix)
      end,
    })
  end

  -- 1. Quick edit: rows 12-13 (1-based), under `# flashpro: add type hints` on row 11.
  local before = table.concat(out.before, '\n')
  code_action('Quick edit', 12, 13)
  wait_for('the quick edit to change the buffer', function()
    return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n') ~= before
  end)
  out.after_quick_edit = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  out.modified = vim.bo[bufnr].modified

  -- 2. The per-file spend diagnostic, after the first model call on this file.
  wait_for('the spend diagnostic', function()
    return #with_source('flashpro') > 0
  end)
  out.spend = with_source('flashpro')

  -- 3. Review rows 4-8 (1-based): findings arrive as diagnostics.
  code_action('Review this', 4, 8)
  wait_for('a review diagnostic', function()
    return #with_source('flashpro-review') > 0
  end)
  out.review = with_source('flashpro-review')

  -- 4. One inline completion at the end of the file (0.11 has no inline UI; the request works).
  step('inline completion')
  local line = vim.api.nvim_buf_line_count(bufnr)
  local reply, err = client:request_sync('textDocument/inlineCompletion', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = line, character = 0 },
    context = { triggerKind = 1 }, -- Invoked
  }, timeout, bufnr)
  out.inline = reply or { err = err }

  finish(0, nil)
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  finish(1, 'Lua error: ' .. tostring(err))
end
