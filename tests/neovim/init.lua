-- flashpro in Neovim 0.11+: the configuration tests/test_real_neovim.py runs in a real Neovim.
-- Put it in your init.lua; set DEEPSEEK_API_KEY in the environment (or flashpro.apiKey below).
vim.lsp.config('flashpro', {
  cmd = { 'flashpro', 'lsp' },
  root_markers = { '.git' },
  init_options = { completion = { automatic = true } }, -- any flashpro.* setting
})
vim.lsp.enable('flashpro')

-- Accept a suggestion, inserting only what you have not typed since it was asked for: typed just
-- before accepting, those characters would otherwise be doubled (Neovim 0.12.4, neovim#36529).
-- Then run the item's command, so flashpro counts the acceptance.
local function accept(item)
  local text = type(item.insert_text) == 'table' and item.insert_text.value or item.insert_text
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local start = item.range and (item.range.start or item.range)
  local srow = start and (start.row or start.line or start[1])
  local scol = start and (start.col or start.character or start[2])
  local typed = ''
  if srow == row - 1 and scol and scol <= col then
    typed = vim.api.nvim_get_current_line():sub(scol + 1, col)
  end
  if type(text) ~= 'string' or text:sub(1, #typed) ~= typed then
    return -- you typed something else: the suggestion no longer fits
  end
  local lines = vim.split(text:sub(#typed + 1), '\n', { plain = true })
  vim.api.nvim_buf_set_text(0, row - 1, col, row - 1, col, lines)
  vim.api.nvim_win_set_cursor(0, { row + #lines - 1, (#lines == 1 and col or 0) + #lines[#lines] })
  local client = item.command and vim.lsp.get_client_by_id(item.client_id)
  if client then
    client:exec_cmd(item.command, { bufnr = 0 })
  end
end
package.loaded['flashpro.accept'] = accept -- (for tests/neovim/accept.lua)

-- Neovim 0.12+: ghost text from textDocument/inlineCompletion, accepted with <Tab>.
if vim.lsp.inline_completion then
  vim.lsp.inline_completion.enable()
  vim.keymap.set('i', '<Tab>', function()
    if not vim.lsp.inline_completion.get({ on_accept = accept }) then
      return '<Tab>'
    end
  end, { expr = true, desc = 'Accept the inline suggestion' })
end
